;; not_transport.wat - a valid WebAssembly module that is no WATER
;; transport: it exports neither _water_v0 nor any watm_*_v1 function.
(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
