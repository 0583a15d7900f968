(module
  ;; 6 million elements here and 5 million below: 11 million together
  (table $a 6000000 funcref)
  (table $b 5000000 funcref)
  (func (export "grow_a") (param i32) (result i32)
    (table.grow $a (ref.null func) (local.get 0)))
)
