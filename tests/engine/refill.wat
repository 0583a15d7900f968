(module
  ;; fuel refilled by host calls (wasm_instance_set_fuel_refill)
  (import "host" "tick" (func $tick))
  ;; n rounds of 100 loop iterations, calling the host after each round
  (func (export "ticking") (param $n i32) (local $i i32)
    (block $done (loop $round
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $i (i32.const 100))
      (block $inner_done (loop $inner
        (br_if $inner_done (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $inner)))
      (call $tick)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $round))))
  ;; the same n * 100 iterations without calling the host
  (func (export "silent") (param $n i32) (local $i i32)
    (local.set $i (i32.mul (local.get $n) (i32.const 100)))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $i)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br $l))))
)
