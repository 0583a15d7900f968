/*
 * options.c - command-line options shared by the role commands, and
 * loading a transport with its config.
 */
#include "options.h"

#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool allowed_here(const char *name, const char *const *allowed)
{
    for (; allowed && *allowed; allowed++)
        if (!strcmp(*allowed, name))
            return true;
    return false;
}

/* Maps every spelling to its canonical long name. */
static const char *canonical(const char *a)
{
    static const char *const aliases[][2] = {
        {"-t", "transport"}, {"--transport", "transport"}, {"--wasm-path", "transport"},
        {"-c", "config"},    {"--config", "config"},       {"--config-wasm", "config"},
        {"--listen", "listen"}, {"--remote", "remote"},    {"--forward", "forward"},
        {"--socks5", "socks5"}, {"--entry", "entry"},      {"--entry-fn", "entry"},
        {"--allow-dial", "allow-dial"}, {"--allow-listen", "allow-listen"},
        {"--max-memory", "max-memory"}, {"--socks5-auth", "socks5-auth"},
        {"--max-spin", "max-spin"},
        {"--tls-ca", "tls-ca"}, {"--tls-cert", "tls-cert"}, {"--tls-key", "tls-key"},
        {"--tls-sni", "tls-sni"}, {"--tls-alpn", "tls-alpn"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(a, aliases[i][0]))
            return aliases[i][1];
    return NULL;
}

int cli_parse(int argc, char **argv, const char *usage, const char *const *allowed,
              cli_options *o)
{
    memset(o, 0, sizeof *o);
    o->allow_dial = calloc((size_t)argc + 1, sizeof *o->allow_dial);
    o->allow_listen = calloc((size_t)argc + 1, sizeof *o->allow_listen);
    if (!o->allow_dial || !o->allow_listen)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 1;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose++;
            continue;
        }
        if (!strcmp(a, "-vv")) {
            o->verbose += 2;
            continue;
        }
        if (!strcmp(a, "--module-stdio")) {
            o->module_stdio = true;
            continue;
        }
        if (!strcmp(a, "--tls-insecure") && allowed_here("tls-insecure", allowed)) {
            o->tls.insecure = true;
            continue;
        }
        const char *name = canonical(a);
        if (!name || (strcmp(name, "transport") && strcmp(name, "config") &&
                      strcmp(name, "max-memory") && strcmp(name, "max-spin") &&
                      !allowed_here(name, allowed))) {
            cli_error("%s: unknown option '%s'", argv[0], a);
            fputs(usage, stderr);
            return -1;
        }
        if (i + 1 >= argc) {
            cli_error("%s: option '%s' needs a value", argv[0], a);
            return -1;
        }
        const char *v = argv[++i];
        if (!strcmp(name, "transport")) o->transport = v;
        else if (!strcmp(name, "config")) o->config = v;
        else if (!strcmp(name, "listen")) o->listen = v;
        else if (!strcmp(name, "remote")) o->remote = v;
        else if (!strcmp(name, "forward")) o->forward = v;
        else if (!strcmp(name, "socks5")) o->socks5 = v;
        else if (!strcmp(name, "socks5-auth")) o->socks5_auth = v;
        else if (!strcmp(name, "entry")) o->entry = v;
        else if (!strcmp(name, "allow-dial")) o->allow_dial[o->nallow_dial++] = v;
        else if (!strcmp(name, "allow-listen")) o->allow_listen[o->nallow_listen++] = v;
        else if (!strcmp(name, "tls-ca")) o->tls.ca_file = v;
        else if (!strcmp(name, "tls-cert")) o->tls.cert_file = v;
        else if (!strcmp(name, "tls-key")) o->tls.key_file = v;
        else if (!strcmp(name, "tls-sni")) o->tls.sni = v;
        else if (!strcmp(name, "tls-alpn")) o->tls.alpn = v;
        else if (!strcmp(name, "max-memory")) {
            char *end;
            unsigned long pages = strtoul(v, &end, 10);
            if (*end || !pages || pages > 65536) {
                cli_error("%s: --max-memory wants a page count from 1 to 65536", argv[0]);
                return -1;
            }
            o->max_memory_pages = (uint32_t)pages;
        } else if (!strcmp(name, "max-spin") && !cli_parse_spin(argv[0], v, &o->spin_fuel)) {
            return -1;
        }
    }
    if (!o->transport) {
        cli_error("%s: no transport: give -t FILE.wasm", argv[0]);
        fputs(usage, stderr);
        return -1;
    }
    return 0;
}

bool cli_parse_spin(const char *cmd, const char *v, uint64_t *spin_fuel)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end || end == v || *v == '-' || errno == ERANGE) {
        cli_error("%s: --max-spin wants a count of loop iterations (0: no limit)", cmd);
        return false;
    }
    *spin_fuel = n ? (uint64_t)n : UINT64_MAX;
    return true;
}

void cli_options_free(cli_options *o)
{
    free(o->allow_dial);
    free(o->allow_listen);
}

static void log_to_stderr(void *user, water_log_level level, const char *msg)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "water: %s: %s\n", names[level], msg);
}

/* A JSON config that does not parse is refused here, with the place. */
static bool check_json(const char *path, const char *bytes, size_t len)
{
    size_t n = strlen(path);
    if (n < 5 || strcmp(path + n - 5, ".json") != 0)
        return true;
    cJSON *j = cJSON_ParseWithLength(bytes, len);
    if (j) {
        cJSON_Delete(j);
        return true;
    }
    const char *where = cJSON_GetErrorPtr();
    size_t off = where && where >= bytes && where <= bytes + len ? (size_t)(where - bytes) : 0;
    unsigned line = 1;
    for (size_t i = 0; i < off; i++)
        line += bytes[i] == '\n';
    cli_error("%s: the config does not parse as JSON (line %u, byte %zu)", path, line, off);
    return false;
}

bool cli_read_config(const cli_options *o, uint8_t **config, size_t *len)
{
    *config = NULL;
    *len = 0;
    if (!o->config)
        return true;
    *config = cli_read_file(o->config, len);
    if (!*config)
        return false;
    if (!check_json(o->config, (const char *)*config, *len)) {
        free(*config);
        *config = NULL;
        return false;
    }
    return true;
}

void cli_water_options(const cli_options *o, water_options *opts)
{
    *opts = (water_options){
        .max_memory_pages = o->max_memory_pages,
        .spin_fuel = o->spin_fuel,
        .allow_dial = o->allow_dial,
        .nallow_dial = o->nallow_dial,
        .allow_listen = o->allow_listen,
        .nallow_listen = o->nallow_listen,
        .log = log_to_stderr,
        .log_level = o->verbose >= 2 ? WATER_LOG_DEBUG : o->verbose ? WATER_LOG_INFO
                                                                    : WATER_LOG_WARN,
        .stdio = o->module_stdio,
        .tls = o->tls,
    };
}

water_transport *cli_load_transport(const cli_options *o)
{
    uint8_t *config;
    size_t config_len;
    if (!cli_read_config(o, &config, &config_len))
        return NULL;
    water_options opts;
    cli_water_options(o, &opts);
    water_error err;
    water_transport *t = water_transport_load(o->transport, config, config_len, &opts, &err);
    free(config);
    if (!t)
        cli_error("%s", err.message);
    return t;
}
