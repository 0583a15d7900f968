/*
 * spec_exec.c - runs one wast2json script against the engine.
 *
 * State of a script: a linker holding the `spectest` instance and every
 * registered instance, and the list of modules its commands created, in
 * order. The "current" module is the one the last `module` command defined,
 * even if it failed to load: actions on a failed module fail with the reason
 * instead of reaching a module defined before it.
 *
 * Lifetimes: instances may reference each other (imports, funcrefs stored in
 * shared tables, even by modules whose instantiation failed half-way), so
 * nothing is freed before the script ends. Then the linker goes first, the
 * instances in reverse order of creation, then the modules.
 *
 * Every command reports SPEC_START and exactly one result. Every action runs
 * with a fuel budget on every live instance, so a runaway loop traps instead
 * of hanging; recursion is bounded by the engine's call-depth limit.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, fileno */

#include "spec.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (512u << 20)

typedef struct spec_mod {
    char *name;          /* "$M" from the script, or NULL */
    uint32_t line;       /* command that created it */
    wasm_module *mod;    /* NULL if it did not load */
    wasm_instance *inst; /* NULL if it did not load or instantiate */
    char *error;         /* why it is unusable, when inst is NULL */
} spec_mod;

typedef struct spec_ctx {
    const spec_options *opt;
    spec_report_fn report;
    void *env;
    char *dir; /* folder of the script, for its .wasm files */

    wasm_linker *linker;
    wasm_module *spectest_mod;
    wasm_instance *spectest_inst;

    spec_mod *mods;
    size_t nmods, capmods;
    ptrdiff_t current; /* index into mods, or -1 */

    uint32_t line;  /* of the running command */
    bool reported;  /* the running command has its result */
} spec_ctx;

/* ---- reporting --------------------------------------------------------- */

static void result(spec_ctx *c, spec_status st, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->reported) /* a handler bug; keep the first result */
        return;
    c->reported = true;
    c->report(c->env, st, c->line, msg);
}

#define PRINTF_LIKE __attribute__((format(printf, 2, 3)))

static void PRINTF_LIKE pass(spec_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    result(c, SPEC_PASS, fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE failed(spec_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    result(c, SPEC_FAIL, fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE skipped(spec_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    result(c, SPEC_SKIP, fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE note(spec_ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->report(c->env, SPEC_NOTE, 0, msg);
}

/* "load failure (malformed module): at byte 0x12: ..." */
static const char *err_text(const wasm_error *err, char *buf, size_t len)
{
    if (err->code == WASM_ERR_TRAP)
        snprintf(buf, len, "trap \"%s\" (%s)", wasm_trap_message(err->trap),
                 err->message);
    else
        snprintf(buf, len, "%s: %s", wasm_strerror(err->code), err->message);
    return buf;
}

/* ---- files ------------------------------------------------------------- */

/* Reads a whole file into a malloc'ed buffer with a NUL after its end. */
static char *read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES) {
        snprintf(why, whylen, "%s is not a regular file of at most %u bytes",
                 path, MAX_FILE_BYTES);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        snprintf(why, whylen, "out of memory reading %s", path);
        fclose(f);
        return NULL;
    }
    if (n && fread(buf, 1, n, f) != n) {
        snprintf(why, whylen, "cannot read %s", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Copies JSON text, turning each string escape \u0000 into NUL_MARK. */
static char *mark_nul_escapes(const char *in, size_t len, size_t *outlen)
{
    char *out = malloc(len + len / 6 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (!in_string) {
            if (ch == '"')
                in_string = true;
            out[o++] = ch;
        } else if (ch == '"') {
            in_string = false;
            out[o++] = ch;
        } else if (ch == '\\' && i + 1 < len) {
            if (len - i >= 6 && memcmp(in + i, "\\u0000", 6) == 0) {
                memcpy(out + o, "\\\\u0000", 7);
                o += 7;
                i += 5;
            } else {
                out[o++] = ch;
                out[o++] = in[++i];
            }
        } else {
            out[o++] = ch;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* ---- JSON access ------------------------------------------------------- */

static const char *jstr(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static uint32_t jline(const cJSON *obj)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(obj, "line");
    if (!cJSON_IsNumber(l) || !(l->valuedouble >= 1) ||
        l->valuedouble > UINT32_MAX)
        return 0;
    return (uint32_t)l->valuedouble;
}

/* ---- modules ----------------------------------------------------------- */

static spec_mod *add_mod(spec_ctx *c, const char *name)
{
    if (c->nmods == c->capmods) {
        size_t nc = c->capmods ? c->capmods * 2 : 16;
        spec_mod *nm = realloc(c->mods, nc * sizeof *nm);
        if (!nm)
            return NULL;
        c->mods = nm;
        c->capmods = nc;
    }
    spec_mod *m = &c->mods[c->nmods];
    memset(m, 0, sizeof *m);
    m->line = c->line;
    if (name && !(m->name = strdup(name)))
        return NULL;
    c->nmods++;
    return m;
}

static void set_mod_error(spec_mod *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_mod_error(spec_mod *m, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(m->error);
    m->error = strdup(buf);
}

typedef enum load_status {
    LOAD_OK,
    LOAD_TEXT,     /* a text module: not supported by the runner */
    LOAD_NO_FILE,  /* the script is broken: why[] */
    LOAD_REJECTED, /* the engine refused it: err */
} load_status;

/* Loads the module a command names in "filename". */
static load_status load_module(spec_ctx *c, const cJSON *cmd,
                               wasm_module **out, wasm_error *err, char *why,
                               size_t whylen)
{
    *out = NULL;
    const char *file = jstr(cmd, "filename");
    const char *mtype = jstr(cmd, "module_type");
    if (!file || !*file || strchr(file, '/')) {
        snprintf(why, whylen, "command has no valid \"filename\"");
        return LOAD_NO_FILE;
    }
    size_t fl = strlen(file);
    if ((mtype && strcmp(mtype, "text") == 0) ||
        (fl > 4 && strcmp(file + fl - 4, ".wat") == 0))
        return LOAD_TEXT;
    if (mtype && strcmp(mtype, "binary") != 0) {
        snprintf(why, whylen, "unknown module_type \"%.40s\"", mtype);
        return LOAD_NO_FILE;
    }
    size_t pl = strlen(c->dir) + fl + 2;
    char *path = malloc(pl);
    if (!path) {
        snprintf(why, whylen, "out of memory");
        return LOAD_NO_FILE;
    }
    snprintf(path, pl, "%s/%s", c->dir, file);
    size_t len = 0;
    char *bytes = read_file(path, &len, why, whylen);
    free(path);
    if (!bytes)
        return LOAD_NO_FILE;
    memset(err, 0, sizeof *err);
    *out = wasm_module_new((const uint8_t *)bytes, len, err);
    free(bytes);
    if (!*out) {
        if (err->code == WASM_OK) /* an engine bug; say so */
            snprintf(err->message, sizeof err->message,
                     "wasm_module_new returned NULL without an error");
        return LOAD_REJECTED;
    }
    return LOAD_OK;
}

/* The module an action or register names ("$M"), or the current one.
 * Returns NULL with the reason in why[] when it is not usable. */
static spec_mod *find_mod(spec_ctx *c, const char *name, char *why,
                          size_t whylen)
{
    spec_mod *m = NULL;
    if (name) {
        for (size_t i = c->nmods; i-- > 0;) {
            if (c->mods[i].name && strcmp(c->mods[i].name, name) == 0) {
                m = &c->mods[i];
                break;
            }
        }
        if (!m) {
            snprintf(why, whylen, "no module named %.100s", name);
            return NULL;
        }
    } else {
        if (c->current < 0) {
            snprintf(why, whylen, "no module defined before this command");
            return NULL;
        }
        m = &c->mods[c->current];
    }
    if (!m->inst) {
        snprintf(why, whylen, "module %s%sfrom line %u is unusable: %.900s",
                 m->name ? m->name : "", m->name ? " " : "", m->line,
                 m->error ? m->error : "(unknown)");
        return NULL;
    }
    return m;
}

/* ---- the spectest module ------------------------------------------------ */

typedef struct print_fn {
    const char *name;
    const char *sig;
} print_fn;

/* Whether the print functions print (spec_options.verbose). */
static bool print_verbose;

static const print_fn print_fns[] = {
    {"print", "->"},         {"print_i32", "i->"},
    {"print_i64", "I->"},    {"print_f32", "f->"},
    {"print_f64", "F->"},    {"print_i32_f32", "if->"},
    {"print_f64_f64", "FF->"},
};

static wasm_trap spectest_print(wasm_instance *caller, void *env,
                                wasm_slot *slots)
{
    (void)caller;
    const print_fn *p = env;
    if (!print_verbose)
        return WASM_TRAP_NONE;
    printf("spectest %s(", p->name);
    for (size_t i = 0; p->sig[i] != '-'; i++) {
        if (i)
            printf(", ");
        switch (p->sig[i]) {
        case 'i': printf("%d", slots[i].i32); break;
        case 'I': printf("%lld", (long long)slots[i].i64); break;
        case 'f': printf("%g", (double)slots[i].f32); break;
        case 'F': printf("%g", slots[i].f64); break;
        }
    }
    printf(")\n");
    return WASM_TRAP_NONE;
}

/* Makes the linker and the `spectest` instance in it. Returns false only
 * when the linker cannot be made; a missing spectest is a note. */
static bool setup_spectest(spec_ctx *c)
{
    c->linker = wasm_linker_new();
    if (!c->linker)
        return false;
    for (size_t i = 0; i < sizeof print_fns / sizeof print_fns[0]; i++) {
        wasm_err e = wasm_linker_define_func(
            c->linker, "spectest_host", print_fns[i].name, print_fns[i].sig,
            spectest_print, (void *)&print_fns[i]);
        if (e != WASM_OK) {
            note(c, "spectest: defining spectest_host.%s failed: %s",
                 print_fns[i].name, wasm_strerror(e));
            return true;
        }
    }
    char why[512];
    size_t len = 0;
    char *bytes = read_file(c->opt->spectest_wasm, &len, why, sizeof why);
    if (!bytes) {
        note(c, "spectest module unavailable: %s", why);
        return true;
    }
    wasm_error err;
    char et[512];
    memset(&err, 0, sizeof err);
    c->spectest_mod = wasm_module_new((const uint8_t *)bytes, len, &err);
    free(bytes);
    if (!c->spectest_mod) {
        note(c, "spectest module does not load: %s",
             err_text(&err, et, sizeof et));
        return true;
    }
    c->spectest_inst = wasm_instance_new(c->spectest_mod, c->linker, NULL, &err);
    if (!c->spectest_inst) {
        note(c, "spectest module does not instantiate: %s",
             err_text(&err, et, sizeof et));
        return true;
    }
    wasm_err e = wasm_linker_define_instance(c->linker, "spectest",
                                             c->spectest_inst);
    if (e != WASM_OK)
        note(c, "spectest: define_instance failed: %s", wasm_strerror(e));
    return true;
}

/* ---- actions ----------------------------------------------------------- */

typedef enum action_kind {
    ACT_DONE,    /* ran: vals[0..nvals) */
    ACT_ERROR,   /* the engine reported err (a trap, usually) */
    ACT_NOT_RUN, /* could not be attempted: why[] */
    ACT_SKIP,    /* cannot be expressed through the API: why[] */
} action_kind;

typedef struct action_result {
    action_kind kind;
    wasm_val *vals;
    size_t nvals;
    wasm_error err;
    char why[1024];
    char desc[512]; /* `invoke "f"(i32:1)`, for messages */
} action_result;

static void refuel(spec_ctx *c)
{
    if (c->spectest_inst)
        wasm_instance_set_fuel(c->spectest_inst, c->opt->fuel);
    for (size_t i = 0; i < c->nmods; i++)
        if (c->mods[i].inst)
            wasm_instance_set_fuel(c->mods[i].inst, c->opt->fuel);
}

static void describe(action_result *r, const char *type, const char *modname,
                     const char *field, const wasm_val *args, size_t nargs)
{
    char name[256];
    size_t n = (size_t)snprintf(r->desc, sizeof r->desc, "%s %s%s%s", type,
                                modname ? modname : "", modname ? "." : "",
                                spec_fmt_name(name, sizeof name, field));
    if (strcmp(type, "invoke") != 0 || n >= sizeof r->desc)
        return;
    n += (size_t)snprintf(r->desc + n, sizeof r->desc - n, "(");
    for (size_t i = 0; i < nargs && n < sizeof r->desc; i++) {
        char v[96];
        n += (size_t)snprintf(r->desc + n, sizeof r->desc - n, "%s%s",
                              i ? ", " : "", spec_fmt_val(v, sizeof v, &args[i]));
    }
    if (n < sizeof r->desc)
        snprintf(r->desc + n, sizeof r->desc - n, ")");
}

static void run_invoke(spec_ctx *c, spec_mod *m, const cJSON *action,
                       const char *field, action_result *r)
{
    const cJSON *jargs = cJSON_GetObjectItemCaseSensitive(action, "args");
    if (jargs && !cJSON_IsArray(jargs)) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "\"args\" is not an array");
        return;
    }
    int na = jargs ? cJSON_GetArraySize(jargs) : 0;
    wasm_val *args = calloc(na > 0 ? (size_t)na : 1, sizeof *args);
    if (!args) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "out of memory");
        return;
    }
    size_t nargs = 0;
    const cJSON *ja;
    cJSON_ArrayForEach(ja, jargs)
    {
        char why[256];
        if (!spec_parse_arg(ja, &args[nargs], why, sizeof why)) {
            describe(r, "invoke", m->name, field, args, nargs);
            r->kind = ACT_NOT_RUN;
            snprintf(r->why, sizeof r->why, "argument %zu: %s", nargs, why);
            free(args);
            return;
        }
        nargs++;
    }
    describe(r, "invoke", m->name, field, args, nargs);

    wasm_func *f = wasm_instance_func(m->inst, field);
    if (!f) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "no exported function of that name");
        free(args);
        return;
    }
    wasm_functype_info ft = wasm_func_type(f);
    if (ft.nparams != nargs) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why,
                 "the function takes %u arguments, the script gives %zu",
                 ft.nparams, nargs);
        free(args);
        return;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (ft.params && ft.params[i] != args[i].type) {
            r->kind = ACT_NOT_RUN;
            snprintf(r->why, sizeof r->why,
                     "argument %zu is %s, the function takes %s", i,
                     spec_valtype_name(args[i].type),
                     spec_valtype_name(ft.params[i]));
            free(args);
            return;
        }
    }
    r->vals = calloc(ft.nresults ? ft.nresults : 1, sizeof *r->vals);
    if (!r->vals) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "out of memory");
        free(args);
        return;
    }
    refuel(c);
    wasm_err e = wasm_call(m->inst, f, args, nargs, r->vals, ft.nresults,
                           &r->err);
    free(args);
    if (e != WASM_OK) {
        r->kind = ACT_ERROR;
        if (r->err.code == WASM_OK) /* keep the returned code if unfilled */
            r->err.code = e;
        return;
    }
    r->kind = ACT_DONE;
    r->nvals = ft.nresults;
}

/* Runs an "action" object; the caller frees r->vals. */
static void run_action(spec_ctx *c, const cJSON *action, action_result *r)
{
    memset(r, 0, sizeof *r);
    const char *type = jstr(action, "type");
    const char *field = jstr(action, "field");
    const char *modname = jstr(action, "module");
    if (!cJSON_IsObject(action) || !type || !field) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->desc, sizeof r->desc, "action");
        snprintf(r->why, sizeof r->why,
                 "\"action\" needs a \"type\" and a \"field\"");
        return;
    }
    describe(r, type, modname, field, NULL, 0);
    if (strcmp(type, "invoke") != 0 && strcmp(type, "get") != 0) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "unknown action type");
        return;
    }
    if (strstr(field, NUL_MARK)) {
        r->kind = ACT_SKIP;
        snprintf(r->why, sizeof r->why,
                 "export name contains NUL, which the C API cannot express");
        return;
    }
    spec_mod *m = find_mod(c, modname, r->why, sizeof r->why);
    if (!m) {
        r->kind = ACT_NOT_RUN;
        return;
    }
    if (strcmp(type, "invoke") == 0) {
        run_invoke(c, m, action, field, r);
        return;
    }
    r->vals = calloc(1, sizeof *r->vals);
    if (!r->vals) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "out of memory");
        return;
    }
    wasm_err e = wasm_global_get(m->inst, field, &r->vals[0]);
    if (e != WASM_OK) {
        r->kind = ACT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "wasm_global_get: %s",
                 wasm_strerror(e));
        return;
    }
    r->kind = ACT_DONE;
    r->nvals = 1;
}

/* Formats values as "(a, b)". */
static void fmt_vals(char *buf, size_t len, const wasm_val *v, size_t n)
{
    size_t o = (size_t)snprintf(buf, len, "(");
    for (size_t i = 0; i < n && o < len; i++) {
        char t[96];
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
                              spec_fmt_val(t, sizeof t, &v[i]));
    }
    if (o < len)
        snprintf(buf + o, len - o, ")");
}

/* Reports the outcome of an action that could not run or was skipped;
 * returns true if it did so. */
static bool report_not_run(spec_ctx *c, const char *cmd, action_result *r)
{
    if (r->kind == ACT_SKIP) {
        skipped(c, "%s %s: %s", cmd, r->desc, r->why);
        return true;
    }
    if (r->kind == ACT_NOT_RUN) {
        failed(c, "%s %s: not run: %s", cmd, r->desc, r->why);
        return true;
    }
    return false;
}

/* ---- commands ---------------------------------------------------------- */

static void cmd_module(spec_ctx *c, const cJSON *cmd)
{
    const char *name = jstr(cmd, "name");
    spec_mod *m = add_mod(c, name);
    if (!m) {
        failed(c, "module: out of memory");
        return;
    }
    c->current = (ptrdiff_t)(m - c->mods);
    wasm_error err;
    char why[512], et[512];
    switch (load_module(c, cmd, &m->mod, &err, why, sizeof why)) {
    case LOAD_OK:
        break;
    case LOAD_TEXT:
        set_mod_error(m, "text modules are not supported");
        failed(c, "module: text modules are not supported");
        return;
    case LOAD_NO_FILE:
        set_mod_error(m, "%s", why);
        failed(c, "module: %s", why);
        return;
    case LOAD_REJECTED:
        set_mod_error(m, "load failed: %s", err_text(&err, et, sizeof et));
        failed(c, "module%s%s: expected to load, got %s", name ? " " : "",
               name ? name : "", et);
        return;
    }
    memset(&err, 0, sizeof err);
    m->inst = wasm_instance_new(m->mod, c->linker, NULL, &err);
    if (!m->inst) {
        set_mod_error(m, "instantiation failed: %s",
                      err_text(&err, et, sizeof et));
        failed(c, "module%s%s: expected to instantiate, got %s",
               name ? " " : "", name ? name : "", et);
        return;
    }
    wasm_instance_set_fuel(m->inst, c->opt->fuel);
    pass(c, "module");
}

static void cmd_register(spec_ctx *c, const cJSON *cmd)
{
    const char *as = jstr(cmd, "as");
    const char *name = jstr(cmd, "name");
    char why[1024];
    if (!as) {
        failed(c, "register: no \"as\"");
        return;
    }
    spec_mod *m = find_mod(c, name, why, sizeof why);
    if (!m) {
        failed(c, "register \"%.100s\": %s", as, why);
        return;
    }
    wasm_err e = wasm_linker_define_instance(c->linker, as, m->inst);
    if (e != WASM_OK) {
        failed(c, "register \"%.100s\": wasm_linker_define_instance: %s", as,
               wasm_strerror(e));
        return;
    }
    pass(c, "register");
}

static void cmd_action(spec_ctx *c, const cJSON *cmd)
{
    action_result r;
    char et[512];
    run_action(c, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    if (!report_not_run(c, "action", &r)) {
        if (r.kind == ACT_ERROR)
            failed(c, "action %s: expected to complete, got %s", r.desc,
                   err_text(&r.err, et, sizeof et));
        else
            pass(c, "action");
    }
    free(r.vals);
}

static void cmd_assert_return(spec_ctx *c, const cJSON *cmd)
{
    action_result r;
    char et[512], exp[1024], got[1024];
    run_action(c, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    if (report_not_run(c, "assert_return", &r))
        goto out;

    /* Parse the expectations first: a malformed one is a script problem. */
    const cJSON *jexp = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
    int ne = cJSON_IsArray(jexp) ? cJSON_GetArraySize(jexp) : -1;
    if (ne < 0) {
        failed(c, "assert_return %s: no \"expected\" array", r.desc);
        goto out;
    }
    spec_expect *want = calloc(ne ? (size_t)ne : 1, sizeof *want);
    if (!want) {
        failed(c, "assert_return: out of memory");
        goto out;
    }
    size_t o = (size_t)snprintf(exp, sizeof exp, "(");
    int i = 0;
    const cJSON *je;
    cJSON_ArrayForEach(je, jexp)
    {
        char why[256], t[96];
        if (!spec_parse_expect(je, &want[i], why, sizeof why)) {
            failed(c, "assert_return %s: result %d: %s", r.desc, i, why);
            free(want);
            goto out;
        }
        if (o < sizeof exp)
            o += (size_t)snprintf(exp + o, sizeof exp - o, "%s%s",
                                  i ? ", " : "",
                                  spec_fmt_expect(t, sizeof t, &want[i]));
        i++;
    }
    if (o < sizeof exp)
        snprintf(exp + o, sizeof exp - o, ")");

    if (r.kind == ACT_ERROR) {
        failed(c, "assert_return %s: expected %s, got %s", r.desc, exp,
               err_text(&r.err, et, sizeof et));
        free(want);
        goto out;
    }
    bool ok = r.nvals == (size_t)ne;
    for (size_t k = 0; ok && k < r.nvals; k++)
        ok = spec_expect_match(&want[k], &r.vals[k]);
    free(want);
    if (ok) {
        pass(c, "assert_return");
    } else {
        fmt_vals(got, sizeof got, r.vals, r.nvals);
        failed(c, "assert_return %s: expected %s, got %s", r.desc, exp, got);
    }
out:
    free(r.vals);
}

/* Whether a trap message matches the script's text: either is a prefix of
 * the other ("uninitialized element 2" vs "uninitialized element"). */
static bool trap_text_matches(const char *want, const char *got)
{
    size_t lw = strlen(want), lg = strlen(got);
    if (lw == 0 || lg == 0)
        return lw == lg;
    return strncmp(want, got, lw < lg ? lw : lg) == 0;
}

/* assert_trap and assert_exhaustion. */
static void cmd_assert_trap(spec_ctx *c, const cJSON *cmd)
{
    const char *type = jstr(cmd, "type");
    const char *text = jstr(cmd, "text");
    action_result r;
    char et[512], got[1024];
    if (!text)
        text = "";
    run_action(c, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    if (report_not_run(c, type, &r)) {
        /* reported */
    } else if (r.kind == ACT_DONE) {
        fmt_vals(got, sizeof got, r.vals, r.nvals);
        failed(c, "%s %s: expected trap \"%s\", got result %s", type, r.desc,
               text, got);
    } else if (r.err.code != WASM_ERR_TRAP) {
        failed(c, "%s %s: expected trap \"%s\", got %s", type, r.desc, text,
               err_text(&r.err, et, sizeof et));
    } else if (!trap_text_matches(text, wasm_trap_message(r.err.trap))) {
        failed(c, "%s %s: expected trap \"%s\", got trap \"%s\" (%s)", type,
               r.desc, text, wasm_trap_message(r.err.trap), r.err.message);
    } else {
        pass(c, "%s", type);
    }
    free(r.vals);
}

/* assert_invalid and assert_malformed: the module must not load. */
static void cmd_assert_invalid(spec_ctx *c, const cJSON *cmd)
{
    const char *type = jstr(cmd, "type");
    const char *text = jstr(cmd, "text");
    wasm_module *mod;
    wasm_error err;
    char why[512];
    switch (load_module(c, cmd, &mod, &err, why, sizeof why)) {
    case LOAD_TEXT:
        skipped(c, "%s: text module", type);
        return;
    case LOAD_NO_FILE:
        failed(c, "%s: %s", type, why);
        return;
    case LOAD_REJECTED:
        pass(c, "%s", type);
        return;
    case LOAD_OK:
        break;
    }
    wasm_module_free(mod);
    failed(c, "%s: expected load failure \"%s\", but the module loaded", type,
           text ? text : "");
}

/* assert_unlinkable and assert_uninstantiable: the module loads, but
 * wasm_instance_new fails with the right kind of error. */
static void cmd_assert_instantiate_fails(spec_ctx *c, const cJSON *cmd)
{
    const char *type = jstr(cmd, "type");
    const char *text = jstr(cmd, "text");
    bool link = strcmp(type, "assert_unlinkable") == 0;
    char why[512], et[512];
    wasm_error err;
    if (!text)
        text = "";
    spec_mod *m = add_mod(c, NULL); /* kept until the end, never current */
    if (!m) {
        failed(c, "%s: out of memory", type);
        return;
    }
    switch (load_module(c, cmd, &m->mod, &err, why, sizeof why)) {
    case LOAD_TEXT:
        skipped(c, "%s: text module", type);
        return;
    case LOAD_NO_FILE:
        failed(c, "%s: %s", type, why);
        return;
    case LOAD_REJECTED:
        failed(c, "%s: expected %s failure \"%s\", but the module did not "
                  "load: %s",
               type, link ? "link" : "instantiation", text,
               err_text(&err, et, sizeof et));
        return;
    case LOAD_OK:
        break;
    }
    memset(&err, 0, sizeof err);
    m->inst = wasm_instance_new(m->mod, c->linker, NULL, &err);
    if (m->inst) {
        wasm_instance_set_fuel(m->inst, c->opt->fuel);
        failed(c, "%s: expected %s failure \"%s\", but it instantiated", type,
               link ? "link" : "instantiation", text);
        return;
    }
    err_text(&err, et, sizeof et);
    if (link) {
        if (err.code == WASM_ERR_LINK)
            pass(c, "%s", type);
        else
            failed(c, "%s: expected link failure \"%s\", got %s", type, text,
                   et);
        return;
    }
    if (err.code == WASM_ERR_INSTANTIATE)
        pass(c, "%s", type);
    else if (err.code != WASM_ERR_TRAP)
        failed(c, "%s: expected instantiation failure \"%s\", got %s", type,
               text, et);
    else if (!trap_text_matches(text, wasm_trap_message(err.trap)))
        failed(c, "%s: expected trap \"%s\", got %s", type, text, et);
    else
        pass(c, "%s", type);
}

typedef void (*command_fn)(spec_ctx *c, const cJSON *cmd);

static const struct {
    const char *type;
    command_fn run;
} commands[] = {
    {"module", cmd_module},
    {"register", cmd_register},
    {"action", cmd_action},
    {"assert_return", cmd_assert_return},
    {"assert_trap", cmd_assert_trap},
    {"assert_exhaustion", cmd_assert_trap},
    {"assert_invalid", cmd_assert_invalid},
    {"assert_malformed", cmd_assert_invalid},
    {"assert_unlinkable", cmd_assert_instantiate_fails},
    {"assert_uninstantiable", cmd_assert_instantiate_fails},
};

static void run_command(spec_ctx *c, const cJSON *cmd)
{
    c->line = jline(cmd);
    c->reported = false;
    c->report(c->env, SPEC_START, c->line, "");
    const char *type = jstr(cmd, "type");
    if (!cJSON_IsObject(cmd) || !type) {
        failed(c, "command without a \"type\"");
        return;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(type, commands[i].type) == 0) {
            commands[i].run(c, cmd);
            if (!c->reported)
                failed(c, "%s: runner bug: no result reported", type);
            return;
        }
    }
    failed(c, "unknown command type \"%.60s\"", type);
}

/* ---- the script -------------------------------------------------------- */

static void cleanup(spec_ctx *c)
{
    wasm_linker_free(c->linker);
    for (size_t i = c->nmods; i-- > 0;)
        if (c->mods[i].inst)
            wasm_instance_free(c->mods[i].inst);
    if (c->spectest_inst)
        wasm_instance_free(c->spectest_inst);
    for (size_t i = 0; i < c->nmods; i++) {
        if (c->mods[i].mod)
            wasm_module_free(c->mods[i].mod);
        free(c->mods[i].name);
        free(c->mods[i].error);
    }
    if (c->spectest_mod)
        wasm_module_free(c->spectest_mod);
    free(c->mods);
    free(c->dir);
}

void spec_run_script(const char *json_path, const spec_options *opt,
                     spec_report_fn report, void *env)
{
    spec_ctx c = {.opt = opt, .report = report, .env = env, .current = -1};
    print_verbose = opt->verbose;
    char why[512];
    size_t len = 0, mlen = 0;

    c.dir = strdup(json_path);
    if (!c.dir) {
        failed(&c, "out of memory");
        return;
    }
    char *slash = strrchr(c.dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(c.dir, ".");

    char *text = read_file(json_path, &len, why, sizeof why);
    if (!text) {
        failed(&c, "%s", why);
        free(c.dir);
        return;
    }
    char *marked = mark_nul_escapes(text, len, &mlen);
    free(text);
    if (!marked) {
        failed(&c, "out of memory");
        free(c.dir);
        return;
    }
    cJSON *root = cJSON_ParseWithLength(marked, mlen);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        failed(&c, "%s: invalid JSON near \"%.40s\"", json_path,
               at ? at : "?");
        free(marked);
        free(c.dir);
        return;
    }
    free(marked);
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(root, "commands");
    if (!cJSON_IsArray(cmds)) {
        failed(&c, "%s: no \"commands\" array", json_path);
    } else if (!setup_spectest(&c)) {
        failed(&c, "wasm_linker_new failed");
    } else {
        const cJSON *cmd;
        cJSON_ArrayForEach(cmd, cmds)
            run_command(&c, cmd);
    }
    cJSON_Delete(root);
    cleanup(&c);
}
