/*
 * cmd_inspect.c - `water inspect FILE.wasm`: what a module is and offers.
 */
#include "cli.h"

#include "water.h"
#include "water/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(wasm_externkind k)
{
    static const char *const names[] = {"func", "table", "memory", "global"};
    return (unsigned)k < 4 ? names[k] : "?";
}

static const char *type_name(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    default: return "?";
    }
}

static void print_extern(const wasm_extern_info *e)
{
    switch (e->kind) {
    case WASM_EXTERN_FUNC:
        printf("(");
        for (uint32_t i = 0; i < e->func.nparams; i++)
            printf("%s%s", i ? " " : "", type_name(e->func.params[i]));
        printf(") -> (");
        for (uint32_t i = 0; i < e->func.nresults; i++)
            printf("%s%s", i ? " " : "", type_name(e->func.results[i]));
        printf(")");
        break;
    case WASM_EXTERN_MEMORY:
    case WASM_EXTERN_TABLE:
        if (e->kind == WASM_EXTERN_TABLE)
            printf("%s ", type_name(e->valtype));
        printf("min %u", e->limits.min);
        if (e->limits.has_max)
            printf(" max %u", e->limits.max);
        if (e->kind == WASM_EXTERN_MEMORY)
            printf(" pages (%.1f MiB initial)", e->limits.min / 16.0);
        break;
    case WASM_EXTERN_GLOBAL:
        printf("%s%s", e->mutable_ ? "mut " : "", type_name(e->valtype));
        break;
    }
}

int cmd_inspect(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs("usage: water inspect FILE.wasm\n\n"
              "Prints the module's WATER ABI version and roles (or why it is not a\n"
              "usable transport), its imports, exports and memory limits.\n",
              argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    size_t len;
    uint8_t *bytes = cli_read_file(argv[1], &len);
    if (!bytes)
        return 1;
    wasm_error err;
    wasm_module *m = wasm_module_new(bytes, len, &err);
    if (!m) {
        cli_error("%s: %s", argv[1], err.message);
        free(bytes);
        return 1;
    }
    printf("module: %s (%zu bytes)\n", argv[1], len);
    water_error werr;
    water_transport *t = water_transport_new(bytes, len, NULL, 0, NULL, &werr);
    free(bytes);
    if (t) {
        water_info info;
        water_transport_info(t, &info);
        printf("WATER: WATM v%d transport\n", info.abi_version);
        printf("roles:%s%s%s%s\n", info.dial ? " dialer" : "",
               info.dial_fixed ? " fixed-dialer" : "", info.accept ? " listener" : "",
               info.relay ? " relay" : "");
        if (info.uses_water_dial)
            printf("dials on its own: yes (env.water_dial; needs --allow-dial)\n");
        water_transport_free(t);
    } else {
        printf("WATER: not usable as a transport: %s\n", werr.message);
    }
    uint32_t next = 0;
    for (uint32_t i = 0; i < wasm_module_import_count(m); i++) {
        wasm_extern_info e;
        next += wasm_module_import(m, i, &e) && !strcmp(e.module, "water_ext_v1");
    }
    if (next)
        printf("host extension: water_ext_v1 (%u function%s)\n", next, next == 1 ? "" : "s");
    printf("imports (%u):\n", wasm_module_import_count(m));
    for (uint32_t i = 0; i < wasm_module_import_count(m); i++) {
        wasm_extern_info e;
        wasm_module_import(m, i, &e);
        printf("  %-6s %s.%s ", kind_name(e.kind), e.module, e.name);
        print_extern(&e);
        putchar('\n');
    }
    printf("exports (%u):\n", wasm_module_export_count(m));
    for (uint32_t i = 0; i < wasm_module_export_count(m); i++) {
        wasm_extern_info e;
        wasm_module_export(m, i, &e);
        printf("  %-6s %s ", kind_name(e.kind), e.name);
        print_extern(&e);
        putchar('\n');
    }
    wasm_module_free(m);
    return 0;
}
