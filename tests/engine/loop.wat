(module
  ;; spins until the host interrupts it or fuel runs out
  (func (export "spin") (loop $l (br $l)))
  ;; recursion without end: the call depth limit must stop it
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  ;; counts down n iterations, returns n
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (local.set $i (local.get $n))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $i)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $n))
  ;; back edges of other kinds, each spinning until fuel runs out: a br_table
  ;; (its default and an entry), a fused add + compare + br_if (br_add_*)
  (func (export "spin_table") (param $i i32)
    (loop $l (br_table $l $l (local.get $i))))
  (func (export "spin_if") (param $i i32)
    (loop $l
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                        (i32.const 0)))))
)
