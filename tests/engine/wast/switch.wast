;; br_table on a byte just loaded (br_table_l8, _a: code.h), and br_table
;; entries that carry their target's handler.
(module
  (memory 1)
  (data (i32.const 0) "\00\01\02\03\09\ff")
  (data (i32.const 65535) "\02")
  ;; switch on *p, the loaded byte also kept in a local
  (func (export "sw") (param i32) (result i32)
    (local i32)
    (block (block (block (block
      (br_table 0 1 2 3 (local.tee 1 (i32.load8_u (local.get 0)))))
      (return (i32.add (local.get 1) (i32.const 100))))
      (return (i32.add (local.get 1) (i32.const 200))))
      (return (i32.add (local.get 1) (i32.const 300))))
    (i32.add (local.get 1) (i32.const 400)))
  ;; index = byte + k, address = p + k'
  (func (export "sw_k") (param i32) (result i32)
    (block (block (block
      (br_table 0 1 2 (i32.add (i32.load8_u offset=1 (i32.add (local.get 0) (i32.const 1)))
                               (i32.const -1))))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  ;; the address from the accumulator (a copy just before), in a loop
  (func (export "count") (param i32 i32) (result i32)
    (local i32 i32)
    (loop
      (local.set 3 (local.get 0))
      (block (block
        (br_table 0 1 (i32.load8_u (local.get 3))))
        (local.set 2 (i32.add (local.get 2) (i32.const 1))))
      (br_if 0 (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 1))))
    (local.get 2))
  ;; a loop as a target: the table's jump back polls and re-runs it
  (func (export "loop_target") (param i32) (result i32)
    (local i32)
    (block
      (loop
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_table 0 1 (i32.load8_u (local.get 0)))))
    (local.get 1))
)
(assert_return (invoke "sw" (i32.const 0)) (i32.const 100))
(assert_return (invoke "sw" (i32.const 1)) (i32.const 201))
(assert_return (invoke "sw" (i32.const 2)) (i32.const 302))
(assert_return (invoke "sw" (i32.const 3)) (i32.const 403))
(assert_return (invoke "sw" (i32.const 5)) (i32.const 655))
(assert_trap (invoke "sw" (i32.const 65536)) "out of bounds")
(assert_return (invoke "sw_k" (i32.const 0)) (i32.const 20))
(assert_return (invoke "sw_k" (i32.const -1)) (i32.const 10))
(assert_return (invoke "sw_k" (i32.const 2)) (i32.const 30))
(assert_return (invoke "sw_k" (i32.const 65533)) (i32.const 20))
(assert_trap (invoke "sw_k" (i32.const 65534)) "out of bounds")
(assert_return (invoke "count" (i32.const 0) (i32.const 6)) (i32.const 1))
(assert_return (invoke "count" (i32.const 1) (i32.const 6)) (i32.const 0))
(assert_return (invoke "loop_target" (i32.const 0)) (i32.const 1))
(assert_return (invoke "loop_target" (i32.const 65530)) (i32.const 5))
