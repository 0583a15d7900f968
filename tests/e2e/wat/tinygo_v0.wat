;; tinygo_v0.wat - a synthetic WATM v0 identity transport shaped like what
;; the TinyGo SDK produces (TinyGo/Rust toolchains are not available here):
;;
;;  - `_water_v0` is exported as a FUNCTION () -> ();
;;  - `_start` "runs the Go init() functions" (sets $registered) and then
;;    calls proc_exit(0), as TinyGo's _start does;
;;  - every other export answers -EPERM (-63) until _start has run, like a
;;    TinyGo module whose transports were never registered;
;;  - the worker sets both sockets non-blocking with fd_fdstat_set_flags
;;    and waits in poll_oneoff (control pipe + one subscription per
;;    direction), expecting EAGAIN from fd_read/fd_write.
;;
;; Roles: dialer (_water_dial), listener (_water_accept), relay
;; (_water_associate). Bytes are copied unchanged both ways; each direction
;; has a 64 KiB buffer and stops reading while its output is pending.
;; Either side's EOF ends the worker with 0; a byte or EOF on the cancel
;; pipe ends it with -ECANCELED (-11).
;;
;; Memory: 0 iovec, 8 fd_read/fd_write count, 12 event count,
;; 16 + 8*d: {len, off} of direction d (0: internal -> net, 1: net ->
;; internal), 64 three subscriptions (48 bytes each), 256 three events
;; (32 bytes each), 65536 * (d + 1) the buffer of direction d.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "env" "host_dial" (func $host_dial (result i32)))
  (import "env" "host_accept" (func $host_accept (result i32)))
  (import "env" "pull_config" (func $pull_config (result i32)))
  (import "env" "host_defer" (func $host_defer))
  (memory (export "memory") 3)

  (global $registered (mut i32) (i32.const 0))
  (global $internal (mut i32) (i32.const -1))
  (global $net (mut i32) (i32.const -1))
  (global $ctrl (mut i32) (i32.const -1))

  (func (export "_start")
    (global.set $registered (i32.const 1))
    (call $proc_exit (i32.const 0)))

  (func (export "_water_v0"))

  (func (export "_water_init") (result i32)
    (local $fd i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    ;; An identity transport has no use for a config: close it if given.
    (local.set $fd (call $pull_config))
    (if (i32.ge_s (local.get $fd) (i32.const 0))
      (then (drop (call $fd_close (local.get $fd)))))
    (i32.const 0))

  (func (export "_water_dial") (param $caller i32) (result i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    (global.set $internal (local.get $caller))
    (global.set $net (call $host_dial))
    (global.get $net))

  (func (export "_water_accept") (param $caller i32) (result i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    (global.set $internal (local.get $caller))
    (global.set $net (call $host_accept))
    (global.get $net))

  (func (export "_water_associate") (result i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    (global.set $internal (call $host_accept))
    (if (i32.lt_s (global.get $internal) (i32.const 0))
      (then (return (global.get $internal))))
    (global.set $net (call $host_dial))
    (if (i32.lt_s (global.get $net) (i32.const 0))
      (then (return (global.get $net))))
    (i32.const 0))

  (func (export "_water_cancel_with") (param $fd i32) (result i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    (global.set $ctrl (local.get $fd))
    (i32.const 0))

  (func $src (param $d i32) (result i32)
    (select (global.get $net) (global.get $internal) (local.get $d)))
  (func $dst (param $d i32) (result i32)
    (select (global.get $internal) (global.get $net) (local.get $d)))
  (func $buf (param $d i32) (result i32)
    (i32.shl (i32.add (local.get $d) (i32.const 1)) (i32.const 16)))
  (func $pending (param $d i32) (result i32)
    (i32.ne (i32.load offset=16 (i32.shl (local.get $d) (i32.const 3)))
            (i32.load offset=20 (i32.shl (local.get $d) (i32.const 3)))))

  ;; Subscription i: userdata i, tag (1 fd_read, 2 fd_write), fd.
  (func $sub (param $i i32) (param $tag i32) (param $fd i32)
    (local $p i32)
    (local.set $p (i32.add (i32.const 64) (i32.mul (local.get $i) (i32.const 48))))
    (i64.store (local.get $p) (i64.extend_i32_u (local.get $i)))
    (i32.store8 offset=8 (local.get $p) (local.get $tag))
    (i32.store offset=16 (local.get $p) (local.get $fd)))

  ;; Direction d: read when nothing is pending, then write what is pending.
  ;; 1: carry on, 0: end of stream, < 0: -errno.
  (func $pump (param $d i32) (result i32)
    (local $st i32) (local $e i32) (local $off i32) (local $len i32)
    (local.set $st (i32.add (i32.const 16) (i32.shl (local.get $d) (i32.const 3))))
    (if (i32.eqz (call $pending (local.get $d)))
      (then
        (i32.store (i32.const 0) (call $buf (local.get $d)))
        (i32.store (i32.const 4) (i32.const 65536))
        (local.set $e (call $fd_read (call $src (local.get $d))
                                     (i32.const 0) (i32.const 1) (i32.const 8)))
        (if (i32.eq (local.get $e) (i32.const 6)) (then (return (i32.const 1))))
        (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
        (local.set $len (i32.load (i32.const 8)))
        (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
        (i32.store (local.get $st) (local.get $len))
        (i32.store offset=4 (local.get $st) (i32.const 0))))
    (loop $flush
      (local.set $len (i32.load (local.get $st)))
      (local.set $off (i32.load offset=4 (local.get $st)))
      (if (i32.ge_u (local.get $off) (local.get $len)) (then (return (i32.const 1))))
      (i32.store (i32.const 0) (i32.add (call $buf (local.get $d)) (local.get $off)))
      (i32.store (i32.const 4) (i32.sub (local.get $len) (local.get $off)))
      (local.set $e (call $fd_write (call $dst (local.get $d))
                                    (i32.const 0) (i32.const 1) (i32.const 8)))
      (if (i32.eq (local.get $e) (i32.const 6)) (then (return (i32.const 1))))
      (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
      (i32.store offset=4 (local.get $st) (i32.add (local.get $off) (i32.load (i32.const 8))))
      (br $flush))
    (unreachable))

  (func $copy (result i32)
    (local $e i32) (local $n i32) (local $i i32) (local $r i32) (local $d i32)
    (local.set $e (call $fd_fdstat_set_flags (global.get $internal) (i32.const 4)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (local.set $e (call $fd_fdstat_set_flags (global.get $net) (i32.const 4)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (loop $poll
      (call $sub (i32.const 0) (i32.const 1) (global.get $ctrl))
      (local.set $d (i32.const 0))
      (loop $dirs
        (if (call $pending (local.get $d))
          (then (call $sub (i32.add (local.get $d) (i32.const 1)) (i32.const 2)
                           (call $dst (local.get $d))))
          (else (call $sub (i32.add (local.get $d) (i32.const 1)) (i32.const 1)
                           (call $src (local.get $d)))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br_if $dirs (i32.lt_u (local.get $d) (i32.const 2))))
      (local.set $e (call $poll_oneoff (i32.const 64) (i32.const 256) (i32.const 3) (i32.const 12)))
      (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
      (local.set $n (i32.load (i32.const 12)))
      (local.set $i (i32.const 0))
      (block $done
        (loop $events
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $d (i32.load (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 5)))))
          (if (i32.eqz (local.get $d)) (then (return (i32.const -11))))
          (local.set $r (call $pump (i32.sub (local.get $d) (i32.const 1))))
          (if (i32.le_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $events)))
      (br $poll))
    (unreachable))

  (func (export "_water_worker") (result i32)
    (local $r i32)
    (if (i32.eqz (global.get $registered)) (then (return (i32.const -63))))
    (local.set $r (call $copy))
    (call $host_defer)
    (local.get $r)))
