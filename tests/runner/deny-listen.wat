;; deny-listen.wat - tries to listen on 127.0.0.1:7 through
;; water_ext_v1.tcp_listen; `main` returns the result (-2 = EACCES when the
;; host refuses the address).
(module
  (import "water_ext_v1" "tcp_listen" (func $tcp_listen (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "127.0.0.1:7")
  (func (export "main") (result i32)
    (call $tcp_listen (i32.const 16) (i32.const 11))))
