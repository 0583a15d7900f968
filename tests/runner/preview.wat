;; preview.wat - runner-mode test module for the water-rs "v1 preview"
;; imports env.connect_tcp / env.create_listen (bincode records
;; {addr: string, port: u32, name: string}; a string is a u64 LE length and
;; its bytes) and for water_ext_v1.tcp_connect / tcp_listen.
;;
;; Every entry returns 0 when what it checks held, else the unexpected result
;; (never 0), so the host reports "returned N".
;;
;; *_cfg entries take the record from the config (/conf/watm.cfg, preopen 3),
;; written by the test so that it names a port the test chose.
(module
  (import "env" "connect_tcp" (func $connect_tcp (param i32 i32) (result i32)))
  (import "env" "create_listen" (func $create_listen (param i32 i32) (result i32)))
  (import "water_ext_v1" "tcp_connect" (func $tcp_connect (param i32 i32) (result i32)))
  (import "water_ext_v1" "tcp_listen" (func $tcp_listen (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; 0x100 iovec, 0x200 result words, 0x300 "watm.cfg", 0x1000 config bytes
  (data (i32.const 0x300) "watm.cfg")
  (data (i32.const 0x400) "hello")
  (data (i32.const 0x410) "ok")

  ;; hostile records
  ;; 0x2000: addr length 2^64 - 16
  (data (i32.const 0x2000) "\f0\ff\ff\ff\ff\ff\ff\ff" "127.0.0.1" "\50\00\00\00")
  ;; 0x2040: addr length 100 in a 32-byte record
  (data (i32.const 0x2040) "\64\00\00\00\00\00\00\00" "127.0.0.1")
  ;; 0x2080: good addr and port, name length 2^32 (record is 29 bytes)
  (data (i32.const 0x2080) "\09\00\00\00\00\00\00\00" "127.0.0.1" "\50\00\00\00"
                           "\00\00\00\00\01\00\00\00")
  ;; 0x20c0: port 70000
  (data (i32.const 0x20c0) "\09\00\00\00\00\00\00\00" "127.0.0.1" "\70\11\01\00"
                           "\00\00\00\00\00\00\00\00")
  ;; 0x2100: addr with a NUL byte
  (data (i32.const 0x2100) "\09\00\00\00\00\00\00\00" "127.0\000.1" "\50\00\00\00"
                           "\00\00\00\00\00\00\00\00")
  ;; 0x2140: a good record for 127.0.0.1:9 (length 33), never allowed by the tests
  (data (i32.const 0x2140) "\09\00\00\00\00\00\00\00" "127.0.0.1" "\09\00\00\00"
                           "\04\00\00\00\00\00\00\00" "test")
  ;; 0x2200: a 300-byte "address" for tcp_listen (zeros are fine: too long first)
  ;; 0x2400: "127.0.0.1:9"
  (data (i32.const 0x2400) "127.0.0.1:9")

  ;; 0 when got == want, else got (or 1 if got is 0)
  (func $expect (param $got i32) (param $want i32) (result i32)
    (if (result i32) (i32.eq (local.get $got) (local.get $want))
      (then (i32.const 0))
      (else (select (local.get $got) (i32.const 1) (local.get $got)))))

  ;; reads /conf/watm.cfg to 0x1000; returns its length or a negative errno
  (func $read_config (result i32)
    (local $e i32) (local $fd i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 0x300) (i32.const 8)
                    (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0x200)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (local.set $fd (i32.load (i32.const 0x200)))
    (i32.store (i32.const 0x100) (i32.const 0x1000))
    (i32.store (i32.const 0x104) (i32.const 1024))
    (local.set $e (call $fd_read (local.get $fd) (i32.const 0x100) (i32.const 1) (i32.const 0x204)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (i32.load (i32.const 0x204)))

  ;; writes len bytes at ptr to fd (one fd_write); 0 or the errno
  (func $send (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0x100) (local.get $ptr))
    (i32.store (i32.const 0x104) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0x100) (i32.const 1) (i32.const 0x208)))

  ;; connect_tcp to the config's record, send "hello"
  (func (export "connect_cfg") (result i32)
    (local $n i32) (local $fd i32)
    (local.set $n (call $read_config))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (local.set $fd (call $connect_tcp (i32.const 0x1000) (local.get $n)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (call $send (local.get $fd) (i32.const 0x400) (i32.const 5)))

  ;; create_listen on the config's record, accept one client, send "ok"
  (func (export "listen_cfg") (result i32)
    (local $n i32) (local $fd i32) (local $e i32)
    (local.set $n (call $read_config))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (local.set $fd (call $create_listen (i32.const 0x1000) (local.get $n)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (local.set $e (call $sock_accept (local.get $fd) (i32.const 0) (i32.const 0x20c)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (call $send (i32.load (i32.const 0x20c)) (i32.const 0x410) (i32.const 2)))

  ;; refused: the config's record is not allowed (-EACCES = -2)
  (func (export "connect_cfg_denied") (result i32)
    (local $n i32)
    (local.set $n (call $read_config))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (call $expect (call $connect_tcp (i32.const 0x1000) (local.get $n)) (i32.const -2)))
  (func (export "listen_cfg_denied") (result i32)
    (local $n i32)
    (local.set $n (call $read_config))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (call $expect (call $create_listen (i32.const 0x1000) (local.get $n)) (i32.const -2)))

  ;; hostile records: -EINVAL (28), -EFAULT (21), -EMSGSIZE (35)
  (func (export "h_addr_len_huge") (result i32)
    (call $expect (call $connect_tcp (i32.const 0x2000) (i32.const 32)) (i32.const -28)))
  (func (export "h_addr_len_past") (result i32)
    (call $expect (call $create_listen (i32.const 0x2040) (i32.const 32)) (i32.const -28)))
  (func (export "h_name_len_past") (result i32)
    (call $expect (call $connect_tcp (i32.const 0x2080) (i32.const 29)) (i32.const -28)))
  (func (export "h_truncated") (result i32)
    (call $expect (call $connect_tcp (i32.const 0x2140) (i32.const 20)) (i32.const -28)))
  (func (export "h_empty") (result i32)
    (call $expect (call $create_listen (i32.const 0x2140) (i32.const 0)) (i32.const -28)))
  (func (export "h_port") (result i32)
    (call $expect (call $connect_tcp (i32.const 0x20c0) (i32.const 29)) (i32.const -28)))
  (func (export "h_addr_nul") (result i32)
    (call $expect (call $create_listen (i32.const 0x2100) (i32.const 29)) (i32.const -28)))
  (func (export "h_ptr_oob") (result i32)
    (call $expect (call $connect_tcp (i32.const 0xffffff00) (i32.const 64)) (i32.const -21)))
  (func (export "h_len_oob") (result i32)
    (call $expect (call $create_listen (i32.const 0x2140) (i32.const 0x10000)) (i32.const -21)))
  (func (export "h_len_huge") (result i32)
    (call $expect (call $create_listen (i32.const 0x2140) (i32.const -1)) (i32.const -35)))
  ;; a good record that is not allowed (the test allows nothing): -EACCES
  (func (export "h_denied") (result i32)
    (call $expect (call $connect_tcp (i32.const 0x2140) (i32.const 33)) (i32.const -2)))
  ;; water_ext_v1 with bad arguments
  (func (export "x_ptr_oob") (result i32)
    (call $expect (call $tcp_connect (i32.const 0xfffffff0) (i32.const 100)) (i32.const -21)))
  (func (export "x_too_long") (result i32)
    (call $expect (call $tcp_listen (i32.const 0x2200) (i32.const 300)) (i32.const -28)))
  (func (export "x_empty") (result i32)
    (call $expect (call $tcp_listen (i32.const 0x2400) (i32.const 0)) (i32.const -28)))
  (func (export "x_nul") (result i32)
    (call $expect (call $tcp_connect (i32.const 0x2200) (i32.const 4)) (i32.const -28)))
  (func (export "x_denied") (result i32)
    (call $expect (call $tcp_connect (i32.const 0x2400) (i32.const 11)) (i32.const -2)))
)
