;; ext_tramp.wat - every water_ext_v1 function, imported and re-exported
;; through a wasm function body, so that tests/ext/test_ext.c can call each
;; host function from C with arbitrary arguments through the real wasm call
;; path (wasm_call -> interpreter -> host import). Also: dummy WATM v1 exports
;; (so the module loads as a transport and gets the host's TLS contexts), and
;; loops that time AEAD seal/open calls made from wasm.
(module
  (import "water_ext_v1" "aead_seal" (func $aead_seal (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "water_ext_v1" "aead_open" (func $aead_open (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "water_ext_v1" "hkdf" (func $hkdf (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "water_ext_v1" "digest" (func $digest (param i32 i32 i32 i32 i32) (result i32)))
  (import "water_ext_v1" "x25519_keypair" (func $x25519_keypair (param i32 i32) (result i32)))
  (import "water_ext_v1" "x25519_shared" (func $x25519_shared (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "random" (func $random (param i32 i32) (result i32)))
  (import "water_ext_v1" "tls_new" (func $tls_new (param i32) (result i32)))
  (import "water_ext_v1" "tls_feed" (func $tls_feed (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_take" (func $tls_take (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_handshake" (func $tls_handshake (param i32) (result i32)))
  (import "water_ext_v1" "tls_write" (func $tls_write (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_read" (func $tls_read (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_close" (func $tls_close (param i32) (result i32)))
  (import "water_ext_v1" "tls_error" (func $tls_error (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_alpn" (func $tls_alpn (param i32 i32 i32) (result i32)))
  (import "water_ext_v1" "tls_free" (func $tls_free (param i32) (result i32)))
  (memory (export "memory") 4)
  (func (export "aead_seal") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (call $aead_seal (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10)))
  (func (export "aead_open") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (call $aead_open (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10)))
  (func (export "hkdf") (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (call $hkdf (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6) (local.get 7) (local.get 8)))
  (func (export "digest") (param i32 i32 i32 i32 i32) (result i32) (call $digest (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "x25519_keypair") (param i32 i32) (result i32) (call $x25519_keypair (local.get 0) (local.get 1)))
  (func (export "x25519_shared") (param i32 i32 i32) (result i32) (call $x25519_shared (local.get 0) (local.get 1) (local.get 2)))
  (func (export "random") (param i32 i32) (result i32) (call $random (local.get 0) (local.get 1)))
  (func (export "tls_new") (param i32) (result i32) (call $tls_new (local.get 0)))
  (func (export "tls_feed") (param i32 i32 i32) (result i32) (call $tls_feed (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_take") (param i32 i32 i32) (result i32) (call $tls_take (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_handshake") (param i32) (result i32) (call $tls_handshake (local.get 0)))
  (func (export "tls_write") (param i32 i32 i32) (result i32) (call $tls_write (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_read") (param i32 i32 i32) (result i32) (call $tls_read (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_close") (param i32) (result i32) (call $tls_close (local.get 0)))
  (func (export "tls_error") (param i32 i32 i32) (result i32) (call $tls_error (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_alpn") (param i32 i32 i32) (result i32) (call $tls_alpn (local.get 0) (local.get 1) (local.get 2)))
  (func (export "tls_free") (param i32) (result i32) (call $tls_free (local.get 0)))
;; dummy WATM v1 transport exports
  (func (export "watm_init_v1") (result i32) (i32.const 0))
  (func (export "watm_ctrlpipe_v1") (param i32) (result i32) (i32.const 0))
  (func (export "watm_dial_v1") (param i32) (result i32) (i32.const -1))
  (func (export "watm_start_v1") (result i32) (i32.const 0))
  ;; bench_seal(alg, key_len, n, len): n seals of len bytes at 4096 into
  ;; 69632 (key at 0, nonce at 64, no ad); returns the last result.
  (func (export "bench_seal") (param $alg i32) (param $kl i32) (param $n i32) (param $len i32)
        (result i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $r (call $aead_seal (local.get $alg) (i32.const 0) (local.get $kl)
                                       (i32.const 64) (i32.const 12) (i32.const 0) (i32.const 0)
                                       (i32.const 4096) (local.get $len)
                                       (i32.const 69632) (i32.add (local.get $len) (i32.const 16))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $r))
  ;; bench_open(alg, key_len, n, len): n opens of the len + 16 bytes at
  ;; 69632 into 135168; returns the last result.
  (func (export "bench_open") (param $alg i32) (param $kl i32) (param $n i32) (param $len i32)
        (result i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $r (call $aead_open (local.get $alg) (i32.const 0) (local.get $kl)
                                       (i32.const 64) (i32.const 12) (i32.const 0) (i32.const 0)
                                       (i32.const 69632) (i32.add (local.get $len) (i32.const 16))
                                       (i32.const 135168) (local.get $len)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $r))
)
