;; entries.wat - runner-mode test module: how entry functions end.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $started (mut i32) (i32.const 0))

  ;; _start ends with proc_exit(0): a normal return
  (func (export "_start")
    (global.set $started (i32.const 1))
    (call $proc_exit (i32.const 0)))

  (func (export "started") (result i32)   ;; 0 when _start ran
    (i32.eqz (global.get $started)))
  (func (export "void"))                  ;; () -> ()
  (func (export "fail") (result i32) (i32.const 7))
  (func (export "errno") (result i32) (i32.const -53))
  (func (export "minint") (result i32) (i32.const 0x80000000))
  (func (export "exit0") (result i32) (call $proc_exit (i32.const 0)) (i32.const 1))
  (func (export "exit3") (call $proc_exit (i32.const 3)))
  (func (export "trap") (unreachable))
  (func (export "takes_arg") (param i32) (result i32) (local.get 0))
  (global (export "not_a_function") i32 (i32.const 0))

  ;; runs guest code forever
  (func (export "spin") (result i32)
    (loop $l (br $l))
    (i32.const 1))

  ;; waits in the host: poll_oneoff on a one-hour monotonic clock
  (func (export "block") (result i32)
    ;; subscription at 0x100: userdata 0, tag 0 (clock), id 1, timeout 3600 s
    (i64.store (i32.const 0x100) (i64.const 0))
    (i32.store8 (i32.const 0x108) (i32.const 0))
    (i32.store (i32.const 0x110) (i32.const 1))
    (i64.store (i32.const 0x118) (i64.const 3600000000000))
    (i64.store (i32.const 0x120) (i64.const 0))
    (i32.store16 (i32.const 0x128) (i32.const 0))
    (drop (call $poll (i32.const 0x100) (i32.const 0x200) (i32.const 1) (i32.const 0x300)))
    (i32.const 1))
)
