/*
 * options.h - the options the role commands (dial, listen, relay, run)
 * share, and loading the transport they name.
 */
#ifndef WATER_CLI_OPTIONS_H
#define WATER_CLI_OPTIONS_H

#include "water.h"

#include <stddef.h>

typedef struct cli_options {
    const char *transport;  /* -t, --transport, --wasm-path */
    const char *config;     /* -c, --config, --config-wasm */
    const char *listen;     /* --listen */
    const char *remote;     /* --remote */
    const char *forward;    /* --forward */
    const char *socks5;     /* --socks5 */
    const char *socks5_auth; /* --socks5-auth USER:PASS */
    const char *entry;      /* --entry (run) */
    const char **allow_dial;   /* --allow-dial, repeatable */
    size_t nallow_dial;
    const char **allow_listen; /* --allow-listen, repeatable (run) */
    size_t nallow_listen;
    uint32_t max_memory_pages;
    uint64_t spin_fuel;     /* --max-spin (0 there: UINT64_MAX, no limit) */
    int verbose;            /* -v: info, -vv: debug */
    bool module_stdio;      /* --module-stdio */
    water_tls_options tls;  /* --tls-ca, --tls-cert, --tls-key, --tls-sni,
                               --tls-alpn, --tls-insecure (where allowed) */
} cli_options;

/* Parses argv (argv[0] is the command name). `allowed` lists the long
 * option names this command takes besides the common ones. Returns 0, 1
 * when --help was printed (exit 0), or -1 after printing an error. */
int cli_parse(int argc, char **argv, const char *usage, const char *const *allowed,
              cli_options *o);
void cli_options_free(cli_options *o);
/* --max-spin's value: a count, 0 for no limit (UINT64_MAX in
 * water_options.spin_fuel). Prints the error and returns false if bad. */
bool cli_parse_spin(const char *cmd, const char *v, uint64_t *spin_fuel);

/* Reads the config of -c (*config = NULL without one; a .json config is
 * checked first so that its errors name a line). Prints the error and
 * returns false on failure. The caller frees *config. */
bool cli_read_config(const cli_options *o, uint8_t **config, size_t *len);
/* The library options the command line asks for (strings borrowed from o:
 * keep o alive while they are used). */
void cli_water_options(const cli_options *o, water_options *opts);

/* Loads -t with the config of -c (a .json config is checked first so that
 * its errors name a line). Prints the error and returns NULL on failure. */
water_transport *cli_load_transport(const cli_options *o);

#endif
