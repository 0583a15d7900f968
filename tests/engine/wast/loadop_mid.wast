;; A binary op of two loads with an op between them (the ll fusion lets one
;; pure op run first): when that op changes the first loaded value itself,
;; its result must be used, not the raw load (found by engine_diff: f64.mul
;; of f64.nearest(load) and a load used the load, a denormal, unrounded).
(module
  (memory 1)
  (data (i32.const 8) "\61\00\00\00\00\00\00\00")  ;; a denormal f64 (0x61)
  (data (i32.const 16) "\00\00\00\00\00\00\e0\3f") ;; 0.5
  (data (i32.const 24) "\05\00\00\00")             ;; i32 5
  (data (i32.const 28) "\03\00\00\00")             ;; i32 3
  (func (export "nearest_mul") (param $a i32) (param $b i32) (result i64)
    (i64.reinterpret_f64
      (f64.mul (f64.nearest (f64.load offset=8 (local.get $a)))
               (f64.load offset=16 (local.get $b)))))
  (func (export "neg_mul") (param $a i32) (param $b i32) (result f64)
    (f64.mul (f64.neg (f64.load offset=16 (local.get $a)))
             (f64.load offset=16 (local.get $b))))
  (func (export "clz_mul") (param $a i32) (param $b i32) (result i32)
    (i32.mul (i32.clz (i32.load offset=24 (local.get $a)))
             (i32.load offset=28 (local.get $b))))
  (func (export "eqz_add") (param $a i32) (param $b i32) (result i32)
    (i32.add (i32.eqz (i32.load offset=24 (local.get $a)))
             (i32.load offset=28 (local.get $b))))
  (func (export "addr_mid") (param $a i32) (param $b i32) (result i32)
    ;; the op between computes the second address: still fused, still right
    (i32.mul (i32.load offset=24 (local.get $a))
             (i32.load (i32.add (local.get $b) (i32.const 28)))))
)
(assert_return (invoke "nearest_mul" (i32.const 0) (i32.const 0)) (i64.const 0))
(assert_return (invoke "neg_mul" (i32.const 0) (i32.const 0)) (f64.const -0.25))
(assert_return (invoke "clz_mul" (i32.const 0) (i32.const 0)) (i32.const 87))
(assert_return (invoke "eqz_add" (i32.const 0) (i32.const 0)) (i32.const 3))
(assert_return (invoke "addr_mid" (i32.const 0) (i32.const 0)) (i32.const 15))
