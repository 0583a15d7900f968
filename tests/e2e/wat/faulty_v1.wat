;; faulty_v1.wat - a WATM v1 identity transport that misbehaves on demand,
;; chosen by the first byte the application sends (direction internal ->
;; network):
;;
;;   'T'  trap: after more than 65536 bytes of that direction, the worker
;;        executes `unreachable` (a trap mid-stream);
;;   'L'  loop: the worker spins forever and never polls again, so only the
;;        host's interrupt can stop it;
;;   else a well-behaved identity transport (every byte, first one included,
;;        is copied unchanged both ways).
;;
;; Roles: dialer (watm_dial_v1 -> env.water_dial_fixed) and listener
;; (watm_accept_v1 -> env.water_accept). Worker and memory layout as in
;; tinygo_v0.wat (non-blocking sockets, poll_oneoff, 64 KiB per direction).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "env" "water_dial_fixed" (func $water_dial_fixed (result i32)))
  (import "env" "water_accept" (func $water_accept (result i32)))
  (memory (export "memory") 3)

  (global $internal (mut i32) (i32.const -1))
  (global $net (mut i32) (i32.const -1))
  (global $ctrl (mut i32) (i32.const -1))
  (global $mode (mut i32) (i32.const -1))  ;; first byte, -1 before it
  (global $count (mut i32) (i32.const 0))  ;; bytes read in direction 0

  (func (export "watm_init_v1") (result i32) (i32.const 0))

  (func (export "watm_dial_v1") (param $internal i32) (result i32)
    (global.set $internal (local.get $internal))
    (global.set $net (call $water_dial_fixed))
    (global.get $net))

  (func (export "watm_accept_v1") (param $internal i32) (result i32)
    (global.set $internal (local.get $internal))
    (global.set $net (call $water_accept))
    (global.get $net))

  (func (export "watm_ctrlpipe_v1") (param $fd i32) (result i32)
    (global.set $ctrl (local.get $fd))
    (i32.const 0))

  ;; Called with each chunk read in direction 0 (internal -> network).
  (func $misbehave (param $len i32)
    (if (i32.lt_s (global.get $mode) (i32.const 0))
      (then (global.set $mode (i32.load8_u (call $buf (i32.const 0))))))
    (if (i32.eq (global.get $mode) (i32.const 76)) ;; 'L'
      (then (loop $spin (br $spin))))
    (global.set $count (i32.add (global.get $count) (local.get $len)))
    (if (i32.and (i32.eq (global.get $mode) (i32.const 84)) ;; 'T'
                 (i32.gt_u (global.get $count) (i32.const 65536)))
      (then (unreachable))))

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
        (if (i32.eqz (local.get $d)) (then (call $misbehave (local.get $len))))
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

  (func (export "watm_start_v1") (result i32)
    (call $copy)))
