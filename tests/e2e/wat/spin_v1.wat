;; spin_v1.wat - a WATM v1 dialer whose worker never polls: watm_start_v1 is
;; an endless loop. Stopping it takes the host's interrupt (after the stop
;; timeout); the control pipe alone cannot.
(module
  (import "env" "water_dial_fixed" (func $water_dial_fixed (result i32)))
  (memory (export "memory") 1)
  (func (export "watm_init_v1") (result i32) (i32.const 0))
  (func (export "watm_dial_v1") (param $internal i32) (result i32)
    (call $water_dial_fixed))
  (func (export "watm_ctrlpipe_v1") (param $fd i32) (result i32) (i32.const 0))
  (func (export "watm_start_v1") (result i32)
    (loop $spin (br $spin))
    (unreachable)))
