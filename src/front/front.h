/*
 * front.h - front ends on top of libwater (src/front/): the ways real
 * applications send traffic into a transport.
 *
 *   SOCKS5   RFC 1928 CONNECT (IPv4, IPv6, domain names) with the no-auth
 *            method and RFC 1929 username/password, in front of the
 *            dialer role: the requested destination is what the transport
 *            dials (`water dial --socks5`).
 *   Tor PT   the pluggable-transport managed proxy of PT spec 1.0
 *            (`water pt`): TOR_PT_* environment in, VERSION / CMETHOD /
 *            SMETHOD / ... lines out; SOCKS5 listeners for clients (bridge
 *            arguments per connection), listeners forwarding to the ORPort
 *            or the Extended ORPort (SAFE_COOKIE) for servers.
 *
 * This layer uses include/water.h, libc and OpenSSL (HMAC, random bytes)
 * only, never the engine or the host's internals. Parsers are pure
 * functions, so that tests can feed them malformed input directly.
 */
#ifndef WATER_FRONT_H
#define WATER_FRONT_H

#include "water.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bounded I/O (io.c) --------------------------------------------------- */

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t front_now_ms(void);

/* Reads exactly n bytes before the deadline (front_now_ms() based), or
 * gives up when stop_fd (may be -1) becomes readable. Returns 0, or minus
 * ETIMEDOUT, ECONNRESET (the peer closed first), ECANCELED (stop_fd) or
 * another errno value. */
int front_read_exact(int fd, void *buf, size_t n, int64_t deadline, int stop_fd);
/* Writes all n bytes before the deadline; same results. Never raises
 * SIGPIPE on sockets. */
int front_write_all(int fd, const void *buf, size_t n, int64_t deadline, int stop_fd);

/* "ip:port" or "[ip6]:port" of a socket's peer (false if unknown). */
bool front_peer_address(int fd, char *out, size_t len);

/* ---- SOCKS5 (socks5.c) ---------------------------------------------------- */

/* RFC 1928 reply codes (REP). */
enum {
    FRONT_SOCKS5_SUCCEEDED = 0x00,
    FRONT_SOCKS5_GENERAL_FAILURE = 0x01,
    FRONT_SOCKS5_NOT_ALLOWED = 0x02,
    FRONT_SOCKS5_NETWORK_UNREACHABLE = 0x03,
    FRONT_SOCKS5_HOST_UNREACHABLE = 0x04,
    FRONT_SOCKS5_CONNECTION_REFUSED = 0x05,
    FRONT_SOCKS5_TTL_EXPIRED = 0x06,
    FRONT_SOCKS5_COMMAND_NOT_SUPPORTED = 0x07,
    FRONT_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED = 0x08,
};

/* Commands and address types of a request. */
enum {
    FRONT_SOCKS5_CONNECT = 0x01,
    FRONT_SOCKS5_BIND = 0x02,
    FRONT_SOCKS5_UDP_ASSOCIATE = 0x03,
    FRONT_SOCKS5_ATYP_IPV4 = 0x01,
    FRONT_SOCKS5_ATYP_DOMAIN = 0x03,
    FRONT_SOCKS5_ATYP_IPV6 = 0x04,
};

/* Results of the parsers below besides 0 (complete) and n > 0 (at least n
 * more bytes are needed: read exactly that many, never more, so that no
 * byte after the message is consumed). */
enum {
    FRONT_PARSE_BAD = -1,       /* malformed: close without a reply */
    FRONT_PARSE_BAD_ATYP = -2,  /* request with an unknown address type:
                                   reply "address type not supported" */
};

typedef struct front_socks5_greeting {
    bool no_auth;   /* offers method 0x00 */
    bool userpass;  /* offers method 0x02 (RFC 1929) */
} front_socks5_greeting;

/* VER(5) NMETHODS METHODS... */
int front_socks5_parse_greeting(const uint8_t *b, size_t n, front_socks5_greeting *g);

typedef struct front_socks5_creds {
    uint8_t ulen, plen;
    char user[256];  /* ulen bytes, then a NUL (the bytes may hold NULs) */
    char pass[256];
} front_socks5_creds;

/* RFC 1929: VER(1) ULEN UNAME PLEN PASSWD (ULEN 0 is malformed). */
int front_socks5_parse_userpass(const uint8_t *b, size_t n, front_socks5_creds *c);

typedef struct front_socks5_request {
    uint8_t cmd;        /* FRONT_SOCKS5_CONNECT, _BIND, _UDP_ASSOCIATE, ... */
    uint8_t atyp;
    char host[256];     /* dotted IPv4, IPv6 text, or the domain name */
    uint16_t port;
    char address[272];  /* "host:port" or "[ip6]:port": what is dialled */
} front_socks5_request;

/* VER(5) CMD RSV ATYP DST.ADDR DST.PORT. Every command parses (the caller
 * refuses all but CONNECT); an empty domain name or one with control
 * characters is malformed. */
int front_socks5_parse_request(const uint8_t *b, size_t n, front_socks5_request *r);

/* Writes a reply (VER REP RSV ATYP=IPv4 0.0.0.0 port 0) into out; returns
 * its length (10). */
size_t front_socks5_reply(uint8_t out[10], uint8_t code);

/* The reply code for a failed water_dial: refused, unreachable network or
 * host (also unknown names and timeouts), not allowed (allow-list), else
 * general failure. */
uint8_t front_socks5_code_for(const water_error *err);
/* "connection refused", "host unreachable", ... */
const char *front_socks5_reply_name(uint8_t code);

typedef struct front_socks5_server_opts {
    uint32_t timeout_ms;   /* the whole handshake; 0: 10000 */
    int stop_fd;           /* readable: give up at once; -1: none */
    /* With both set, clients must authenticate with exactly these
     * (RFC 1929); without, no-auth is chosen when offered and any
     * username/password is accepted otherwise. */
    const char *username;
    const char *password;
    /* Tor PT: choose username/password when offered (it carries the
     * bridge line's arguments). */
    bool prefer_userpass;
} front_socks5_server_opts;

/* The server side of the handshake on fd up to and including the request.
 * Returns 0 with *req (a CONNECT) and, when username/password was used,
 * *creds and *used_creds; or -1 with `why` filled after answering what the
 * protocol allows (no acceptable method, failed authentication, command
 * or address type not supported; nothing for malformed input). The
 * caller still owns and closes fd. */
int front_socks5_handshake(int fd, const front_socks5_server_opts *o,
                           front_socks5_request *req, front_socks5_creds *creds,
                           bool *used_creds, char *why, size_t whylen);

/* A SOCKS5 front end for the dialer role. */
typedef struct front_socks5_dialer {
    water_transport *t;
    front_socks5_server_opts socks;
    /* Optional: this connection's module config from its credentials (Tor
     * bridge arguments). Returns 0 with *config (malloc'ed; NULL: the
     * transport's own) or -1 with `why` (the client gets "general
     * failure"). creds is NULL when the client used no-auth. */
    int (*config_for)(void *user, const front_socks5_creds *creds, uint8_t **config,
                      size_t *len, char *why, size_t whylen);
    void *user;
} front_socks5_dialer;

/* Serves one SOCKS5 client (client_fd is taken over): handshake, then
 * water_dial_with() to the requested destination, replying "succeeded"
 * only once the dial is up and before the module touches the socket, or
 * the code mapped from the failure. `dialer` is a front_socks5_dialer*.
 * Returns the running connection, or NULL with *err filled. */
water_conn *front_socks5_open(void *dialer, int client_fd, water_error *err);

/* ---- accept loop with several listeners (serve.c) --------------------------- */

/* Opens the connection of one accepted client (client_fd taken over);
 * NULL with *err filled on failure. May block (handshakes, dials). */
typedef water_conn *(*front_open_fn)(void *arg, int client_fd, water_error *err);
/* Where a failed connection is reported (any thread). */
typedef void (*front_report_fn)(void *user, const char *msg);

typedef struct front_server front_server;

front_server *front_server_new(front_report_fn report, void *report_user);
/* Readable once the server stops: handshakes poll it (stop_fd above). */
int front_server_quit_fd(const front_server *s);
/* Serves listen_fd (taken over) with open(arg, fd, err) per client. */
bool front_server_add(front_server *s, int listen_fd, front_open_fn open, void *arg);
/* Accepts until stop_fd becomes readable or eof_fd (may be -1; data read
 * from it is discarded) reaches end of file or fails; then stops every
 * connection and waits a bounded time (3 s) for the client threads. Each
 * client has a thread that opens its connection and waits for its end.
 * Returns how many client threads still run (then neither the server nor
 * what their open functions use may be freed: exit instead). */
unsigned front_server_run(front_server *s, int stop_fd, int eof_fd);
/* Frees the server (NULL is ignored); after front_server_run() returned 0,
 * or without a run. */
void front_server_free(front_server *s);

/* ---- Tor PT: arguments, environment, config merge (pt_env.c) --------------- */

typedef struct front_kv {
    char *key;
    char *value;
} front_kv;

typedef struct front_kvlist {
    front_kv *items;
    size_t n;
} front_kvlist;

void front_kvlist_free(front_kvlist *l);
/* The last value of key, or NULL. */
const char *front_kvlist_get(const front_kvlist *l, const char *key);

/* Parses "k=v;k=v" (per-connection SOCKS arguments, one transport's
 * server options): pairs split at unescaped ';', key and value at the
 * first unescaped '=', "\x" stands for x. Empty pairs are skipped; a pair
 * without '=', an empty key or a trailing lone backslash is an error.
 * Appends to *out. Returns 0 or -1 with `why`. */
int front_pt_parse_args(const char *s, size_t len, front_kvlist *out, char *why,
                        size_t whylen);

/* "k=v,k=v" for SMETHOD's ARGS: with '\\', '=' and ',' escaped (malloc'ed;
 * "" when empty; NULL when out of memory). */
char *front_pt_smethod_args(const front_kvlist *l);

/* A transport name as PT spec 3.1 wants: [a-zA-Z_][a-zA-Z0-9_]*. */
bool front_pt_valid_name(const char *s);

/* Merges arguments into a module config: no base (or only whitespace)
 * gives {"k":"v",...}; a base JSON object keeps its members except those
 * named by an argument, then gets the arguments as string members; any
 * other base is an error (arguments need a JSON config). With no
 * arguments *out is a copy of the base (NULL without one). Returns 0 with
 * *out (malloc'ed) or -1 with `why`. */
int front_config_merge(const uint8_t *base, size_t base_len, const front_kvlist *args,
                       uint8_t **out, size_t *out_len, char *why, size_t whylen);

/* What the TOR_PT_* environment says. */
typedef struct front_pt_env {
    bool server;                /* TOR_PT_SERVER_TRANSPORTS (else client) */
    char **transports;          /* names asked for, in order ("*": all) */
    size_t ntransports;
    char *state_location;       /* TOR_PT_STATE_LOCATION */
    bool exit_on_stdin_close;   /* TOR_PT_EXIT_ON_STDIN_CLOSE=1 */
    char *proxy;                /* client: TOR_PT_PROXY, NULL when unset */
    /* server */
    char **bind_names, **bind_addrs;   /* TOR_PT_SERVER_BINDADDR */
    size_t nbind;
    char **option_names;               /* TOR_PT_SERVER_TRANSPORT_OPTIONS */
    front_kvlist *options;
    size_t noptions;
    char *orport;               /* TOR_PT_ORPORT, NULL when unset */
    char *ext_orport;           /* TOR_PT_EXTENDED_SERVER_PORT, NULL when
                                   unset or empty */
    char *auth_cookie_file;     /* TOR_PT_AUTH_COOKIE_FILE */
} front_pt_env;

typedef enum front_pt_status {
    FRONT_PT_OK,
    FRONT_PT_VERSION_ERROR,     /* answer "VERSION-ERROR no-version" */
    FRONT_PT_ENV_ERROR,         /* answer "VERSION 1", then "ENV-ERROR why" */
} front_pt_status;

/* Looks up one variable (NULL: unset). */
typedef const char *(*front_getenv_fn)(void *user, const char *name);

/* Reads and checks the environment through get (NULL: getenv). The
 * version comes first: any comma-separated list containing "1". */
front_pt_status front_pt_env_parse(front_getenv_fn get, void *user, front_pt_env *env,
                                   char *why, size_t whylen);
void front_pt_env_free(front_pt_env *env);
/* TOR_PT_SERVER_BINDADDR's address for a transport, or NULL. */
const char *front_pt_env_bindaddr(const front_pt_env *env, const char *name);
/* TOR_PT_SERVER_TRANSPORT_OPTIONS for a transport, or NULL. */
const front_kvlist *front_pt_env_options(const front_pt_env *env, const char *name);

/* ---- Extended ORPort (extor.c) ------------------------------------------- */

/* Reads a cookie file: the 32-byte header "! Extended ORPort Auth Cookie !\n"
 * then the 32-byte cookie, nothing more. Returns 0 or -1 with `why`. */
int front_extor_read_cookie(const char *path, uint8_t cookie[32], char *why,
                            size_t whylen);
/* HMAC-SHA256(cookie, "ExtORPort authentication server-to-client hash" or
 * "...client-to-server hash" | client_nonce | server_nonce). */
void front_extor_hash(const uint8_t cookie[32], bool server_to_client,
                      const uint8_t client_nonce[32], const uint8_t server_nonce[32],
                      uint8_t out[32]);
/* On fd, connected to an Extended ORPort: SAFE_COOKIE authentication, then
 * USERADDR (may be NULL), TRANSPORT and DONE, and the bridge's OKAY.
 * Returns 0 or -1 with `why` (a failed check, DENY, a timeout). */
int front_extor_handshake(int fd, const uint8_t cookie[32], const char *useraddr,
                          const char *transport, uint32_t timeout_ms, int stop_fd,
                          char *why, size_t whylen);

/* ---- Tor PT managed proxy (pt.c) ----------------------------------------- */

typedef struct front_pt_transport {
    const char *name;       /* C identifier (PT spec 3.1) */
    const char *wasm_path;
    const uint8_t *config;  /* the CONFIG file's bytes, NULL: none */
    size_t config_len;
} front_pt_transport;

typedef struct front_pt_options {
    const front_pt_transport *transports;
    size_t ntransports;
    water_options water;    /* for every transport; log and stdio are
                               replaced (LOG lines, no module stdio) */
    FILE *out;              /* the protocol channel; NULL: stdout */
    int stop_fd;            /* readable: exit cleanly (signals); -1: none */
    int stdin_fd;           /* watched when TOR_PT_EXIT_ON_STDIN_CLOSE=1 */
    front_getenv_fn getenv; /* NULL: getenv */
    void *getenv_user;
    uint32_t timeout_ms;    /* SOCKS5 and ExtORPort handshakes; 0: 10000 */
} front_pt_options;

/* Runs the managed proxy until stop_fd, stdin's end (when asked for) or a
 * fatal error; writes only to out and TOR_PT_STATE_LOCATION. Returns the
 * process exit code once every connection has ended; if some would not
 * stop within the bounded wait, ends the process (_exit(0)) instead. */
int front_pt_run(const front_pt_options *o);

#ifdef __cplusplus
}
#endif
#endif /* WATER_FRONT_H */
