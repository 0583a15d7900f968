;; deny-connect.wat - tries to connect out to 127.0.0.1:9 through
;; water_ext_v1.tcp_connect; `main` returns the result (-2 = EACCES when the
;; host refuses the address).
(module
  (import "water_ext_v1" "tcp_connect" (func $tcp_connect (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "127.0.0.1:9")
  (func (export "main") (result i32)
    (call $tcp_connect (i32.const 16) (i32.const 11))))
