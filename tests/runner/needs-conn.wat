;; needs-conn.wat - imports a per-connection WATM import (env.water_accept),
;; which runner mode does not offer: loading must fail and name it.
(module
  (import "env" "water_accept" (func $accept (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (call $accept)))
