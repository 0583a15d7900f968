/*
 * ss.h - Shadowsocks AEAD (SIP004) for WATER: the portable core.
 *
 * Wire format of one direction of a TCP connection (SIP004):
 *
 *   [salt][len_ct(2) len_tag(16)][payload_ct(n) payload_tag(16)] ...
 *
 *   - salt: key_len random bytes (16 or 32), sent once at the start;
 *   - subkey = HKDF-SHA1(ikm = master key, salt, info = "ss-subkey"),
 *     key_len bytes; one subkey per direction (each side sends its own salt);
 *   - every AEAD operation uses the 12-byte nonce 0, 1, 2, ... (a little
 *     endian counter incremented after each seal or open), so the length and
 *     the payload of one chunk use two consecutive nonces;
 *   - n is 1..0x3FFF, sent big endian; the two top bits must be zero;
 *   - the master key comes from the password with OpenSSL's
 *     EVP_BytesToKey(MD5, no salt, 1 round): D1 = MD5(pw), Di = MD5(Di-1|pw),
 *     key = D1|D2|... cut to key_len;
 *   - the client's first payload starts with the target as a SOCKS5 address:
 *     ATYP 1 + 4-byte IPv4, ATYP 3 + length byte + name, ATYP 4 + 16-byte
 *     IPv6, each followed by the big endian port.
 *
 * This file declares three layers:
 *   - the crypto backend (ss_crypto_*): implemented by ss_ext.c with the
 *     host's water_ext_v1 functions in the module, by OpenSSL in the native
 *     tests;
 *   - the core (ss_core.c): config, key derivation, SOCKS5 addresses, sealing
 *     and opening chunks in place;
 *   - the connection loop (ss_loop.c): the client and server data paths over
 *     the SDK's system layer (watm_sys.h) and ss_dial (below), implemented
 *     on WASI by ss_abi.c and natively by the tests.
 *
 * Results follow the WATM convention: >= 0 success, minus a WASI errno
 * (WATM_E*) on failure.
 */
#ifndef SS_H
#define SS_H

#include "watm.h"
#include "watm_sys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* WASI errno values watm.h does not name: EBADMSG (what aead_open returns
 * when authentication fails) and ETIMEDOUT. */
#define SS_EBADMSG 9
#define SS_ETIMEDOUT 73

enum ss_method {
    SS_METHOD_NONE = 0,
    /* Same numbers as the host's aead `alg` (docs/host-extension.md). */
    SS_CHACHA20_IETF_POLY1305 = 1,
    SS_AES_128_GCM = 2,
    SS_AES_256_GCM = 3,
};

#define SS_KEY_MAX 32
#define SS_NONCE_LEN 12
#define SS_TAG_LEN 16
#define SS_PAYLOAD_MAX 0x3FFF
#define SS_LEN_FRAME (2 + SS_TAG_LEN)                          /* 18 */
#define SS_CHUNK_OVERHEAD (SS_LEN_FRAME + SS_TAG_LEN)          /* 34 */
#define SS_FRAME_MAX (SS_PAYLOAD_MAX + SS_CHUNK_OVERHEAD)      /* 16417 */
#define SS_ADDR_MAX (1 + 1 + 255 + 2)                          /* 259 */
/* "[" + 39 + "]:" + 5, or a 255-byte name + ":65535", plus the NUL. */
#define SS_ADDR_TEXT_MAX 264

/* ---- crypto backend --------------------------------------------------- */

/* Seals in[0..len) with key/nonce (no associated data) into out, which gets
 * len + 16 bytes (ciphertext then tag); out == in is allowed. */
int ss_crypto_seal(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out);
/* Opens in[0..len) (ciphertext then tag, len >= 16) into out (len - 16
 * bytes); out == in is allowed. -SS_EBADMSG when authentication fails. */
int ss_crypto_open(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out);
/* HKDF-SHA1 (RFC 5869), out_len bytes. */
int ss_crypto_hkdf_sha1(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len);
/* MD5 of in[0..len) into out[0..16). */
int ss_crypto_md5(const uint8_t *in, size_t len, uint8_t out[16]);
/* Cryptographically secure random bytes. */
int ss_crypto_random(uint8_t *out, size_t len);

/* ---- core ------------------------------------------------------------- */

/* The method's key length (= salt length), 0 for an unknown method. */
size_t ss_method_key_len(enum ss_method m);
/* "aes-256-gcm" etc. -> the method; SS_METHOD_NONE when unknown. */
enum ss_method ss_method_from_name(const char *name);
const char *ss_method_name(enum ss_method m);

/* EVP_BytesToKey(MD5) of the password, key_len bytes into key. */
int ss_derive_key(const char *password, size_t password_len, uint8_t *key, size_t key_len);

/*
 * "host:port" -> SOCKS5 address: a dotted IPv4 literal gives ATYP 1,
 * "[v6]:port" ATYP 4, anything else a domain name (ATYP 3, 1..255 bytes).
 * Port 1..65535. Returns the encoded length or -WATM_EINVAL.
 */
int ss_addr_encode(const char *text, uint8_t out[SS_ADDR_MAX]);
/*
 * SOCKS5 address at the start of in[0..len) -> its length (> 0), 0 when
 * more bytes are needed, -WATM_EINVAL for an unknown ATYP or an empty name.
 * With text != NULL (SS_ADDR_TEXT_MAX bytes) also writes "host:port"
 * ("[v6]:port", RFC 5952 form) for water_dial; a name with bytes outside
 * printable ASCII, ':' or '/' is refused with -WATM_EINVAL.
 */
int ss_addr_decode(const uint8_t *in, size_t len, char *text);

/* What the config says. */
struct ss_config {
    enum ss_method method;
    size_t key_len;
    uint8_t key[SS_KEY_MAX];         /* master key */
    uint8_t target[SS_ADDR_MAX];     /* client: SOCKS5 address of "target" */
    size_t target_len;               /* 0: no target configured */
    char target_text[SS_ADDR_TEXT_MAX];
    uint32_t header_timeout_ms;      /* "timeout": the server's wait for the
                                        client's target address, the client's
                                        wait for the server's first reply */
};

/*
 * Parses the JSON config {"method": "...", "password": "...",
 * "target": "host:port"} (other members ignored; "target" optional here, the
 * client role requires it; optional "timeout": seconds, as a string or a
 * number, default 60: how long the server waits for the client's first
 * chunk(s) with the target, and the client for the server's first reply).
 * Logs the reason and returns -WATM_EINVAL on a bad config.
 */
int ss_config_parse(struct ss_config *c, const uint8_t *json, size_t len);

/* One direction's AEAD state. */
struct ss_cipher {
    enum ss_method method;
    size_t key_len;
    uint8_t subkey[SS_KEY_MAX];
    uint8_t nonce[SS_NONCE_LEN];
};

/* Derives the subkey for salt[0..key_len) and resets the nonce. */
int ss_cipher_init(struct ss_cipher *c, const struct ss_config *cfg, const uint8_t *salt);

/*
 * Seals one chunk in place. frame[SS_LEN_FRAME .. SS_LEN_FRAME + n) holds
 * the plaintext payload (1 <= n <= SS_PAYLOAD_MAX); afterwards
 * frame[0 .. n + SS_CHUNK_OVERHEAD) is the chunk as sent. Returns its length.
 */
int ss_seal_chunk(struct ss_cipher *c, uint8_t *frame, size_t n);
/* Opens the 18-byte length block in place; returns the payload length
 * (0..SS_PAYLOAD_MAX), -SS_EBADMSG or -WATM_EPROTO (top bits set). */
int ss_open_len(struct ss_cipher *c, uint8_t *block);
/* Opens a payload of n bytes (+ tag) in place; 0 or -SS_EBADMSG. */
int ss_open_payload(struct ss_cipher *c, uint8_t *payload, size_t n);

/* ---- what the loop needs from outside ------------------------------------ */

/*
 * The loop does its I/O through the SDK's system layer (watm_sys.h: WASI in
 * the module, the SDK's POSIX stand-in in the tests). One more call is
 * Shadowsocks' own, because the server learns where to connect only from
 * the client's first chunk:
 *
 * Dials "host:port" for the server role; the connected fd or a negative
 * errno. The module (ss_abi.c) asks the host (env.water_dial, checked
 * against its --allow-dial list); the tests (ss_native.c) connect directly
 * to the addresses they allow.
 */
int ss_dial(const char *address);

/* ---- connection loop ---------------------------------------------------- */

/*
 * Client (dialer role): app_fd carries plaintext, net_fd the Shadowsocks
 * stream to the server; the first payload starts with cfg->target.
 * Server (relay role): net_fd is the accepted client connection; the loop
 * reads and authenticates the first chunk(s), takes the target address,
 * dials it with ss_dial, then relays.
 * Both return 0 when both directions are closed, -WATM_ECANCELED when the
 * control pipe fires, or a negative errno (logged) on failure.
 */
int ss_run_client(const struct ss_config *cfg, int app_fd, int net_fd, int ctrl_fd);
int ss_run_server(const struct ss_config *cfg, int net_fd, int ctrl_fd);

/* Logging with a formatted tail: "shadowsocks: <msg><detail>". */
void ss_log(const char *msg, const char *detail);

#endif /* SS_H */
