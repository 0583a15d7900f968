;; Products of two bit fields: shifts, masks and multiplies feeding each other
;; (the shr_u+and fusion, the accumulator).
(module
  (func (export "bfx") (param i32 i32) (result i32)
    (i32.mul (i32.and (i32.shr_u (local.get 0) (i32.const 3)) (i32.const 31))
             (i32.and (i32.shr_u (local.get 1) (i32.const 9)) (i32.const 127))))
  ;; the same value twice, shift counts taken mod 32, a full mask
  (func (export "same") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
    (i32.mul (i32.and (i32.shr_u (local.get 1) (i32.const 35)) (i32.const 0x7fffffff))
             (i32.and (i32.shr_u (local.get 1) (i32.const 28)) (i32.const 15))))
  ;; accumulated, with the sum on either side
  (func (export "mac") (param i32 i32 i32) (result i32)
    (i32.add (local.get 2)
      (i32.mul (i32.and (i32.shr_u (local.get 0) (i32.const 2)) (i32.const 15))
               (i32.and (i32.shr_u (local.get 1) (i32.const 5)) (i32.const 127)))))
  (func (export "mac_r") (param i32 i32 i32) (result i32)
    (i32.add
      (i32.mul (i32.and (i32.shr_u (local.get 0) (i32.const 2)) (i32.const 15))
               (i32.and (i32.shr_u (local.get 1) (i32.const 5)) (i32.const 127)))
      (local.get 2)))
  ;; a loop like CoreMark's matrix_mul_matrix_bitextract
  (func (export "loop") (param i32) (result i32)
    (local i32 i32 i32)
    (loop
      (local.set 3 (i32.mul (local.get 0) (i32.const 0x9e3779b9)))
      (local.set 2
        (i32.add
          (i32.mul (i32.and (i32.shr_u (local.get 3) (i32.const 3)) (i32.const 31))
                   (i32.and (i32.shr_u (local.get 3) (i32.const 9)) (i32.const 127)))
          (local.get 2)))
      (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 2))
)
(assert_return (invoke "bfx" (i32.const 0xf8) (i32.const 0xfe00)) (i32.const 3937))
(assert_return (invoke "bfx" (i32.const -1) (i32.const -1)) (i32.const 3937))
(assert_return (invoke "bfx" (i32.const 0x10) (i32.const 0x600)) (i32.const 6))
(assert_return (invoke "same" (i32.const 0x55555555)) (i32.const 0xdffffff1))
(assert_return (invoke "mac" (i32.const 0x3c) (i32.const 0xfe0) (i32.const 5)) (i32.const 1910))
(assert_return (invoke "mac_r" (i32.const 0x3c) (i32.const 0xfe0) (i32.const -5)) (i32.const 1900))
(assert_return (invoke "loop" (i32.const 100)) (i32.const 97343))
