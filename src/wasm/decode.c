/*
 * decode.c - decoder of the WebAssembly 2.0 binary format (spec chapter 5)
 * and validator of everything outside function bodies (spec 3.4).
 *
 * wasm_decode() runs in passes so that errors come in the spec's order (a
 * binary that is both malformed and invalid is reported malformed):
 *
 *   1. Decode every section into the wasm_module. Syntax errors stop at once
 *      with WASM_ERR_MALFORMED. Problems that are not syntax - a v128 value
 *      type, a non-constant instruction in a constant expression, more locals
 *      than we support - are deferred: the first is kept and reported only
 *      if the whole binary decodes. A non-constant instruction cannot be
 *      skipped without decoding arbitrary instructions (compile.c's job), so
 *      the rest of its section is skipped; later sections are still decoded.
 *   2. Build the index spaces (imports first), then validate: WASM_ERR_INVALID.
 *   3. Intern function types, read function names from the `name` section.
 *
 * Invariants: no array is sized from a count before checking that at least
 * `count` bytes remain (every entry takes a byte or more); every array is
 * calloc'ed and its count set at once, so wasm_module_release() can free a
 * partly decoded module; readers never look past the end of their section.
 */
#include "error.h"
#include "module.h"
#include "reader.h"
#include "types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Provided by compile.c: frees one compiled function body. */
void wasm_code_free(wasm_code *c);

/* Caps on what we accept (the spec has none); above them the module is
 * refused with WASM_ERR_UNSUPPORTED, never allocated. */
#define MAX_LOCALS_PER_FUNC 100000u
#define MAX_LOCALS_PER_MODULE (1u << 22)

#define NO_SECTION 0xff

typedef struct decoder {
    wasm_module *m;
    wasm_error *err;       /* the caller's, may be NULL */
    wasm_err code;         /* code of the error reported, when failing */
    uint8_t sec_id;        /* section being decoded, or NO_SECTION */
    const char *item_kind; /* entry being decoded ("import"), or NULL */
    uint32_t item;
    bool skip_section;     /* a deferred error left the section unreadable */
    bool deferred;         /* `pending` holds the first deferred error */
    bool have_code, have_data;
    wasm_error pending;
    uint64_t total_locals; /* expanded locals allocated so far */
    uint32_t customs_cap;
} decoder;

/* Entries that are functions (their errors also set wasm_error.func_index). */
static const char ITEM_FUNCTION[] = "function";

static const char *const section_names[] = {
    "custom", "type",    "import", "function", "table", "memory",   "global",
    "export", "start",   "element", "code",    "data",  "datacount",
};

/* Position of each section id in the required order (custom excluded):
 * datacount (12) sits between element (9) and code (10). */
static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

/* ---- errors ----------------------------------------------------------- */

static void vreport(decoder *d, wasm_error *e, wasm_err code, uint32_t off,
                    const char *fmt, va_list ap)
{
    char msg[224];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (d->sec_id >= sizeof section_names / sizeof section_names[0])
        wasm_error_set(e, code, off, "%s", msg);
    else if (d->item_kind)
        wasm_error_set(e, code, off, "section %u (%s), %s %u: %s", d->sec_id,
                       section_names[d->sec_id], d->item_kind, d->item, msg);
    else
        wasm_error_set(e, code, off, "section %u (%s): %s", d->sec_id,
                       section_names[d->sec_id], msg);
    if (e && d->item_kind == ITEM_FUNCTION)
        e->func_index = d->item;
}

static void report(decoder *d, wasm_err code, uint32_t off, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static void report(decoder *d, wasm_err code, uint32_t off, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(d, d->err, code, off, fmt, ap);
    va_end(ap);
    d->code = code;
}

/* Reports an error and yields false (visibly to the compiler). */
#define FAIL(d, code, off, ...) (report(d, code, off, __VA_ARGS__), false)

/* Records a problem to report once the whole binary has decoded. */
static void defer(decoder *d, wasm_err code, uint32_t off, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
static void defer(decoder *d, wasm_err code, uint32_t off, const char *fmt,
                  ...)
{
    if (d->deferred)
        return;
    va_list ap;
    va_start(ap, fmt);
    vreport(d, &d->pending, code, off, fmt, ap);
    va_end(ap);
    d->deferred = true;
}

static bool decode_nomem(decoder *d)
{
    report(d, WASM_ERR_NOMEM, UINT32_MAX, "out of memory while decoding");
    return false;
}

#define MALFORMED(d, off, ...) FAIL(d, WASM_ERR_MALFORMED, off, __VA_ARGS__)

static void set_item(decoder *d, const char *kind, uint32_t i)
{
    d->item_kind = kind;
    d->item = i;
}

/* ---- primitive values ------------------------------------------------- */

static bool get_u8(decoder *d, wasm_reader *r, uint8_t *v, const char *what)
{
    if (wasm_read_u8(r, v))
        return true;
    return MALFORMED(d, wasm_reader_offset(r), "unexpected end reading %s",
                     what);
}

static bool get_u32(decoder *d, wasm_reader *r, uint32_t *v, const char *what)
{
    if (wasm_read_u32(r, v))
        return true;
    return MALFORMED(d, wasm_reader_offset(r), "%s reading %s",
                     wasm_leb_error(r, 32), what);
}

static bool leb_fail(decoder *d, const wasm_reader *r, unsigned bits,
                     const char *what)
{
    return MALFORMED(d, wasm_reader_offset(r), "%s reading %s",
                     wasm_leb_error(r, bits), what);
}

/* A vector length: at least one byte per entry must remain. */
static bool get_count(decoder *d, wasm_reader *r, uint32_t *n, const char *what)
{
    if (!get_u32(d, r, n, what))
        return false;
    if (*n > wasm_reader_left(r))
        return MALFORMED(d, wasm_reader_offset(r),
                         "length out of bounds: %s %u with %zu bytes left",
                         what, *n, wasm_reader_left(r));
    return true;
}

/* Well-formed UTF-8 (spec 5.2.4): shortest form, no surrogates, at most
 * U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* A name: a NUL-terminated copy in *out (it may also contain NULs). */
static bool get_name(decoder *d, wasm_reader *r, char **out, uint32_t *len,
                     const char *what)
{
    const uint8_t *s;
    if (!get_u32(d, r, len, what))
        return false;
    uint32_t off = wasm_reader_offset(r);
    if (!wasm_read_bytes(r, *len, &s))
        return MALFORMED(d, off, "length out of bounds: %s of %u bytes with "
                         "%zu left", what, *len, wasm_reader_left(r));
    if (!utf8_valid(s, *len))
        return MALFORMED(d, off, "malformed UTF-8 encoding in %s", what);
    char *c = malloc((size_t)*len + 1);
    if (!c)
        return decode_nomem(d);
    memcpy(c, s, *len);
    c[*len] = '\0';
    *out = c;
    return true;
}

static bool get_valtype(decoder *d, wasm_reader *r, wasm_valtype *t)
{
    uint32_t off = wasm_reader_offset(r);
    uint8_t b;
    if (!get_u8(d, r, &b, "value type"))
        return false;
    switch (b) {
    case WASM_I32: case WASM_I64: case WASM_F32: case WASM_F64:
    case WASM_FUNCREF: case WASM_EXTERNREF:
        *t = (wasm_valtype)b;
        return true;
    case WASM_V128:
        defer(d, WASM_ERR_UNSUPPORTED, off, "SIMD (v128) is not supported yet");
        *t = WASM_V128;
        return true;
    default:
        return MALFORMED(d, off, "malformed value type 0x%02x", b);
    }
}

static bool get_reftype(decoder *d, wasm_reader *r, wasm_valtype *t)
{
    uint32_t off = wasm_reader_offset(r);
    uint8_t b;
    if (!get_u8(d, r, &b, "reference type"))
        return false;
    if (b != WASM_FUNCREF && b != WASM_EXTERNREF)
        return MALFORMED(d, off, "malformed reference type 0x%02x", b);
    *t = (wasm_valtype)b;
    return true;
}

static bool get_limits(decoder *d, wasm_reader *r, wasm_limits *l)
{
    uint32_t off = wasm_reader_offset(r);
    uint8_t flags;
    if (!get_u8(d, r, &flags, "limits flags"))
        return false;
    if (flags > 1)
        return MALFORMED(d, off, "integer too large: malformed limits flags "
                         "0x%02x", flags);
    l->has_max = flags == 1;
    if (!get_u32(d, r, &l->min, "limits minimum"))
        return false;
    return !l->has_max || get_u32(d, r, &l->max, "limits maximum");
}

static bool get_globaltype(decoder *d, wasm_reader *r, wasm_globaltype *g)
{
    if (!get_valtype(d, r, &g->type))
        return false;
    uint32_t off = wasm_reader_offset(r);
    uint8_t mut;
    if (!get_u8(d, r, &mut, "mutability"))
        return false;
    if (mut > 1)
        return MALFORMED(d, off, "malformed mutability 0x%02x", mut);
    g->mutable_ = mut == 1;
    return true;
}

/* ---- constant expressions (spec 3.3.10, 5.4.9) ------------------------ */

typedef enum ce_status { CE_OK, CE_FAIL, CE_SKIP } ce_status;

/* Decodes the immediates of `op` if it is a constant instruction. Returns 1
 * if it is, 0 if it is not (nothing read), -1 on malformed input. */
static int get_const_instr(decoder *d, wasm_reader *r, uint8_t op,
                           wasm_const_expr *e)
{
    int64_t s;
    uint32_t u;
    switch (op) {
    case 0x41: /* i32.const */
        if (!wasm_read_sleb(r, 32, &s))
            return (void)leb_fail(d, r, 32, "i32.const"), -1;
        *e = (wasm_const_expr){WASM_CONST_I32, WASM_I32, (uint32_t)s, 0};
        return 1;
    case 0x42: /* i64.const */
        if (!wasm_read_sleb(r, 64, &s))
            return (void)leb_fail(d, r, 64, "i64.const"), -1;
        *e = (wasm_const_expr){WASM_CONST_I64, WASM_I64, (uint64_t)s, 0};
        return 1;
    case 0x43: /* f32.const */
        if (!wasm_read_f32_bits(r, &u))
            return (void)MALFORMED(d, wasm_reader_offset(r), "unexpected end "
                             "reading f32.const"), -1;
        *e = (wasm_const_expr){WASM_CONST_F32, WASM_F32, u, 0};
        return 1;
    case 0x44: /* f64.const */
        *e = (wasm_const_expr){WASM_CONST_F64, WASM_F64, 0, 0};
        if (!wasm_read_f64_bits(r, &e->bits))
            return (void)MALFORMED(d, wasm_reader_offset(r), "unexpected end "
                             "reading f64.const"), -1;
        return 1;
    case 0xd0: /* ref.null t */
        *e = (wasm_const_expr){WASM_CONST_REF_NULL, WASM_FUNCREF, 0, 0};
        return get_reftype(d, r, &e->type) ? 1 : -1;
    case 0xd2: /* ref.func x */
        if (!get_u32(d, r, &u, "ref.func index"))
            return -1;
        *e = (wasm_const_expr){WASM_CONST_REF_FUNC, WASM_FUNCREF, 0, u};
        return 1;
    case 0x23: /* global.get x; its type is known after validation */
        if (!get_u32(d, r, &u, "global.get index"))
            return -1;
        *e = (wasm_const_expr){WASM_CONST_GLOBAL_GET, (wasm_valtype)0, 0, u};
        return 1;
    default:
        return 0;
    }
}

/* Whether `op` begins an instruction of WebAssembly 2.0 (0xfd: SIMD), to
 * tell an illegal opcode (malformed) from a non-constant one (invalid) in a
 * constant expression. Function bodies are compile.c's business. */
static bool opcode_known(uint8_t op)
{
    return op <= 0x05 || (op >= 0x0b && op <= 0x11) ||
           (op >= 0x1a && op <= 0x1c) || (op >= 0x20 && op <= 0x26) ||
           (op >= 0x28 && op <= 0xc4) || (op >= 0xd0 && op <= 0xd2) ||
           op == 0xfc || op == 0xfd;
}

/* A constant expression may not continue past an instruction that is not
 * constant (its length is unknown here): classifies it and defers. */
static ce_status non_const(decoder *d, wasm_reader *r, uint8_t op,
                           uint32_t off)
{
    uint32_t sub;
    if (!opcode_known(op))
        return (void)MALFORMED(d, off, "illegal opcode 0x%02x", op), CE_FAIL;
    if (op == 0xfc) {
        if (!wasm_read_u32(r, &sub))
            return (void)leb_fail(d, r, 32, "0xfc opcode"), CE_FAIL;
        if (sub > 17)
            return (void)MALFORMED(d, off, "illegal opcode 0xfc %u", sub),
                   CE_FAIL;
    }
    if (op == 0xfd)
        defer(d, WASM_ERR_UNSUPPORTED, off, "SIMD (v128) is not supported yet");
    else
        defer(d, WASM_ERR_INVALID, off, "constant expression required: "
              "opcode 0x%02x is not a constant instruction", op);
    return CE_SKIP;
}

/* A constant expression: one constant instruction, then `end`. Several
 * constant instructions, or none, make the module invalid (type mismatch);
 * any other instruction too, and then the rest of the section is skipped. */
static ce_status get_const(decoder *d, wasm_reader *r, wasm_const_expr *e)
{
    uint32_t start = wasm_reader_offset(r), n = 0;
    for (;;) {
        uint32_t off = wasm_reader_offset(r);
        uint8_t op;
        if (!get_u8(d, r, &op, "constant expression"))
            return CE_FAIL;
        if (op == 0x0b)
            break;
        wasm_const_expr extra;
        int k = get_const_instr(d, r, op, n == 0 ? e : &extra);
        if (k < 0)
            return CE_FAIL;
        if (k == 0)
            return non_const(d, r, op, off);
        n++;
    }
    if (n != 1)
        defer(d, WASM_ERR_INVALID, start, "type mismatch: a constant "
              "expression must produce exactly one value, this one has %u", n);
    return CE_OK;
}

/* Turns a const-expression status into a section decoder's result. */
static bool const_done(decoder *d, ce_status st)
{
    if (st == CE_SKIP)
        d->skip_section = true;
    return st != CE_FAIL;
}

/* ---- sections 1-8 ----------------------------------------------------- */

static bool get_valtypes(decoder *d, wasm_reader *r, uint32_t *n,
                         wasm_valtype **out, const char *what)
{
    uint32_t k;
    if (!get_count(d, r, &k, what))
        return false;
    if (k == 0)
        return true;
    if (!(*out = calloc(k, sizeof **out)))
        return decode_nomem(d);
    *n = k;
    for (uint32_t i = 0; i < k; i++)
        if (!get_valtype(d, r, &(*out)[i]))
            return false;
    return true;
}

static bool sec_type(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "type count"))
        return false;
    if (n && !(m->types = calloc(n, sizeof *m->types)))
        return decode_nomem(d);
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_type *t = &m->types[i];
        uint32_t off = wasm_reader_offset(r);
        uint8_t form;
        set_item(d, "type", i);
        if (!get_u8(d, r, &form, "function type"))
            return false;
        if (form != 0x60)
            return MALFORMED(d, off, "malformed function type 0x%02x (0x60 "
                             "expected)", form);
        if (!get_valtypes(d, r, &t->nparams, &t->params, "parameter count") ||
            !get_valtypes(d, r, &t->nresults, &t->results, "result count"))
            return false;
    }
    return true;
}

static bool get_import_desc(decoder *d, wasm_reader *r, wasm_import *im)
{
    wasm_module *m = d->m;
    uint32_t off = wasm_reader_offset(r);
    uint8_t kind;
    if (!get_u8(d, r, &kind, "import kind"))
        return false;
    switch (kind) {
    case WASM_EXTERN_FUNC:
        m->nfunc_imports++;
        im->kind = WASM_EXTERN_FUNC;
        return get_u32(d, r, &im->type_index, "type index");
    case WASM_EXTERN_TABLE:
        m->ntable_imports++;
        im->kind = WASM_EXTERN_TABLE;
        return get_reftype(d, r, &im->table.elem) &&
               get_limits(d, r, &im->table.limits);
    case WASM_EXTERN_MEMORY:
        m->nmemory_imports++;
        im->kind = WASM_EXTERN_MEMORY;
        return get_limits(d, r, &im->memory);
    case WASM_EXTERN_GLOBAL:
        m->nglobal_imports++;
        im->kind = WASM_EXTERN_GLOBAL;
        return get_globaltype(d, r, &im->global);
    default:
        return MALFORMED(d, off, "malformed import kind 0x%02x", kind);
    }
}

static bool sec_import(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "import count"))
        return false;
    if (n && !(m->imports = calloc(n, sizeof *m->imports)))
        return decode_nomem(d);
    m->nimports = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_import *im = &m->imports[i];
        set_item(d, "import", i);
        if (!get_name(d, r, &im->module, &im->module_len, "module name") ||
            !get_name(d, r, &im->name, &im->name_len, "import name") ||
            !get_import_desc(d, r, im))
            return false;
    }
    return true;
}

static bool sec_function(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "function count"))
        return false;
    if (n && !(m->func_defs = calloc(n, sizeof *m->func_defs)))
        return decode_nomem(d);
    m->nfunc_defs = n;
    for (uint32_t i = 0; i < n; i++) {
        set_item(d, ITEM_FUNCTION, m->nfunc_imports + i);
        if (!get_u32(d, r, &m->func_defs[i].type_index, "type index"))
            return false;
    }
    return true;
}

/* Allocates an index space of nimports + ndefs entries (imports first, filled
 * by build_spaces()); leaves it NULL when empty. */
static bool alloc_space(decoder *d, void **arr, size_t elsize,
                        uint32_t nimports, uint32_t ndefs, uint32_t *count)
{
    uint64_t n = (uint64_t)nimports + ndefs; /* < 2^32: one byte each */
    if (n && !(*arr = calloc((size_t)n, elsize)))
        return decode_nomem(d);
    *count = (uint32_t)n;
    return true;
}

static bool sec_table(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "table count") ||
        !alloc_space(d, (void **)&m->tables, sizeof *m->tables,
                     m->ntable_imports, n, &m->ntables))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        wasm_tabletype *t = &m->tables[m->ntable_imports + i];
        set_item(d, "table", m->ntable_imports + i);
        if (!get_reftype(d, r, &t->elem) || !get_limits(d, r, &t->limits))
            return false;
    }
    return true;
}

static bool sec_memory(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "memory count") ||
        !alloc_space(d, (void **)&m->memories, sizeof *m->memories,
                     m->nmemory_imports, n, &m->nmemories))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        set_item(d, "memory", m->nmemory_imports + i);
        if (!get_limits(d, r, &m->memories[m->nmemory_imports + i]))
            return false;
    }
    return true;
}

static bool sec_global(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "global count") ||
        !alloc_space(d, (void **)&m->global_types, sizeof *m->global_types,
                     m->nglobal_imports, n, &m->nglobals))
        return false;
    if (n && !(m->global_defs = calloc(n, sizeof *m->global_defs)))
        return decode_nomem(d);
    m->nglobal_defs = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_global_def *g = &m->global_defs[i];
        set_item(d, "global", m->nglobal_imports + i);
        if (!get_globaltype(d, r, &g->type))
            return false;
        m->global_types[m->nglobal_imports + i] = g->type;
        ce_status st = get_const(d, r, &g->init);
        if (st != CE_OK)
            return const_done(d, st);
    }
    return true;
}

static bool sec_export(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "export count"))
        return false;
    if (n && !(m->exports = calloc(n, sizeof *m->exports)))
        return decode_nomem(d);
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_export *ex = &m->exports[i];
        set_item(d, "export", i);
        if (!get_name(d, r, &ex->name, &ex->name_len, "export name"))
            return false;
        uint32_t off = wasm_reader_offset(r);
        uint8_t kind;
        if (!get_u8(d, r, &kind, "export kind"))
            return false;
        if (kind > WASM_EXTERN_GLOBAL)
            return MALFORMED(d, off, "malformed export kind 0x%02x", kind);
        ex->kind = (wasm_externkind)kind;
        if (!get_u32(d, r, &ex->index, "export index"))
            return false;
    }
    return true;
}

static bool sec_start(decoder *d, wasm_reader *r)
{
    d->m->has_start = true;
    return get_u32(d, r, &d->m->start, "start function index");
}

/* ---- sections 9-12 ---------------------------------------------------- */

/* One element segment (spec 5.5.12): flags bit 0 passive/declarative, bit 1
 * explicit table index (active) or declarative, bit 2 items as expressions. */
static ce_status get_elem(decoder *d, wasm_reader *r, wasm_elem_segment *s)
{
    uint32_t off = wasm_reader_offset(r), flags, n;
    if (!get_u32(d, r, &flags, "segment flags"))
        return CE_FAIL;
    if (flags > 7)
        return (void)MALFORMED(d, off, "malformed elements segment kind %u", flags),
               CE_FAIL;
    s->type = WASM_FUNCREF;
    if (flags & 1) {
        s->mode = (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
    } else {
        s->mode = WASM_SEG_ACTIVE;
        if ((flags & 2) && !get_u32(d, r, &s->table_index, "table index"))
            return CE_FAIL;
        ce_status st = get_const(d, r, &s->offset);
        if (st != CE_OK)
            return st;
    }
    bool exprs = flags & 4;
    if ((flags & 3) && exprs && !get_reftype(d, r, &s->type))
        return CE_FAIL;
    if ((flags & 3) && !exprs) {
        uint8_t kind;
        off = wasm_reader_offset(r);
        if (!get_u8(d, r, &kind, "element kind"))
            return CE_FAIL;
        if (kind != 0x00)
            return (void)MALFORMED(d, off, "malformed element kind 0x%02x", kind),
                   CE_FAIL;
    }
    if (!get_count(d, r, &n, "element count"))
        return CE_FAIL;
    if (n && !(s->items = calloc(n, sizeof *s->items)))
        return (void)decode_nomem(d), CE_FAIL;
    s->count = n;
    for (uint32_t i = 0; i < n; i++) {
        if (exprs) {
            ce_status st = get_const(d, r, &s->items[i]);
            if (st != CE_OK)
                return st;
            continue;
        }
        uint32_t x;
        if (!get_u32(d, r, &x, "function index"))
            return CE_FAIL;
        s->items[i] = (wasm_const_expr){WASM_CONST_REF_FUNC, WASM_FUNCREF, 0, x};
    }
    return CE_OK;
}

static bool sec_elem(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "segment count"))
        return false;
    if (n && !(m->elems = calloc(n, sizeof *m->elems)))
        return decode_nomem(d);
    m->nelems = n;
    for (uint32_t i = 0; i < n; i++) {
        set_item(d, "element segment", i);
        ce_status st = get_elem(d, r, &m->elems[i]);
        if (st != CE_OK)
            return const_done(d, st);
    }
    return true;
}

static bool sec_datacount(decoder *d, wasm_reader *r)
{
    d->m->has_data_count = true;
    return get_u32(d, r, &d->m->data_count, "data count");
}

/* Sums the local declarations of a body without allocating: more than
 * 2^32 - 1 locals is malformed (spec 5.5.13). */
static bool count_locals(decoder *d, wasm_reader *b, uint64_t *total)
{
    uint32_t ngroups;
    if (!get_u32(d, b, &ngroups, "local declaration count"))
        return false;
    *total = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n;
        wasm_valtype t;
        if (!get_u32(d, b, &n, "local count") || !get_valtype(d, b, &t))
            return false;
        *total += n;
        if (*total > UINT32_MAX)
            return MALFORMED(d, wasm_reader_offset(b), "too many locals");
    }
    return true;
}

static bool get_body(decoder *d, wasm_reader *r, wasm_func_def *f)
{
    uint32_t size, off;
    if (!get_u32(d, r, &size, "body size"))
        return false;
    off = wasm_reader_offset(r);
    wasm_reader b;
    if (!wasm_reader_sub(r, size, &b))
        return MALFORMED(d, off, "length out of bounds: body of %u bytes "
                         "with %zu left", size, wasm_reader_left(r));
    const uint8_t *groups = b.p;
    uint64_t total;
    if (!count_locals(d, &b, &total))
        return false;
    f->code_offset = wasm_reader_offset(&b);
    f->code_size = (uint32_t)wasm_reader_left(&b);
    if (total == 0)
        return true;
    if (total > MAX_LOCALS_PER_FUNC) {
        defer(d, WASM_ERR_UNSUPPORTED, off, "%llu locals; at most %u per "
              "function are supported", (unsigned long long)total,
              MAX_LOCALS_PER_FUNC);
        return true;
    }
    if (d->total_locals + total > MAX_LOCALS_PER_MODULE) {
        defer(d, WASM_ERR_UNSUPPORTED, off, "more than %u locals in the "
              "module are not supported", MAX_LOCALS_PER_MODULE);
        return true;
    }
    d->total_locals += total;
    if (!(f->locals = malloc((size_t)total * sizeof *f->locals)))
        return decode_nomem(d);
    f->nlocals = (uint32_t)total;
    /* Second pass over groups already checked by count_locals(). */
    wasm_reader g = {groups, b.p, b.start};
    uint32_t ngroups = 0, k = 0;
    (void)wasm_read_u32(&g, &ngroups);
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t n = 0;
        uint8_t t = 0;
        (void)wasm_read_u32(&g, &n);
        (void)wasm_read_u8(&g, &t);
        for (uint32_t j = 0; j < n; j++)
            f->locals[k++] = (wasm_valtype)t;
    }
    return true;
}

static bool sec_code(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_u32(d, r, &n, "body count"))
        return false;
    d->have_code = true;
    if (n != m->nfunc_defs)
        return MALFORMED(d, UINT32_MAX, "function and code section have "
                         "inconsistent lengths (%u functions, %u bodies)",
                         m->nfunc_defs, n);
    for (uint32_t i = 0; i < n; i++) {
        set_item(d, ITEM_FUNCTION, m->nfunc_imports + i);
        if (!get_body(d, r, &m->func_defs[i]))
            return false;
    }
    return true;
}

static ce_status get_data(decoder *d, wasm_reader *r, wasm_data_segment *s)
{
    uint32_t off = wasm_reader_offset(r), flags = 0;
    if (!get_u32(d, r, &flags, "segment flags"))
        return CE_FAIL;
    if (flags > 2)
        return (void)MALFORMED(d, off, "malformed data segment kind %u", flags),
               CE_FAIL;
    if (flags == 1) {
        s->mode = WASM_SEG_PASSIVE;
    } else {
        s->mode = WASM_SEG_ACTIVE;
        if (flags == 2 && !get_u32(d, r, &s->memory_index, "memory index"))
            return CE_FAIL;
        ce_status st = get_const(d, r, &s->offset);
        if (st != CE_OK)
            return st;
    }
    if (!get_u32(d, r, &s->size, "data size"))
        return CE_FAIL;
    off = wasm_reader_offset(r);
    if (!wasm_read_bytes(r, s->size, &s->bytes))
        return (void)MALFORMED(d, off, "unexpected end: %u data bytes with %zu "
                         "left", s->size, wasm_reader_left(r)), CE_FAIL;
    return CE_OK;
}

static bool sec_data(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!get_count(d, r, &n, "segment count"))
        return false;
    d->have_data = true;
    if (m->has_data_count && n != m->data_count)
        return MALFORMED(d, UINT32_MAX, "data count and data section have "
                         "inconsistent lengths (%u and %u)", m->data_count, n);
    if (n && !(m->datas = calloc(n, sizeof *m->datas)))
        return decode_nomem(d);
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        set_item(d, "data segment", i);
        ce_status st = get_data(d, r, &m->datas[i]);
        if (st != CE_OK)
            return const_done(d, st);
    }
    return true;
}

/* A custom section: kept as (name, payload range); `name` is read later. */
static bool sec_custom(decoder *d, wasm_reader *r)
{
    wasm_module *m = d->m;
    if (m->ncustoms == d->customs_cap) {
        uint32_t cap = d->customs_cap ? d->customs_cap * 2 : 4;
        void *p = realloc(m->customs, cap * sizeof *m->customs);
        if (!p)
            return decode_nomem(d);
        m->customs = p;
        d->customs_cap = cap;
    }
    wasm_custom_section *c = &m->customs[m->ncustoms];
    *c = (wasm_custom_section){0};
    m->ncustoms++;
    if (!get_name(d, r, &c->name, &c->name_len, "custom section name"))
        return false;
    c->offset = wasm_reader_offset(r);
    c->size = (uint32_t)wasm_reader_left(r);
    r->p = r->end;
    return true;
}

/* ---- validation (spec 3.4), all but function bodies -------------------- */

#define INVALID(d, ...) FAIL(d, WASM_ERR_INVALID, UINT32_MAX, __VA_ARGS__)
#define NO_ITEM UINT32_MAX

/* At most 48 bytes of a name in messages. */
static int name_width(uint32_t len)
{
    return len > 48 ? 48 : (int)len;
}

static bool const_fail(decoder *d, const char *what, uint32_t i, uint32_t j,
                       const char *msg)
{
    if (j == NO_ITEM)
        return INVALID(d, "%s %u: %s", what, i, msg);
    return INVALID(d, "%s %u, item %u: %s", what, i, j, msg);
}

/* A constant expression of type `want` (spec 3.3.10): global.get may read
 * only immutable imported globals (2.0 validates globals, elements and data
 * in a context holding the imported globals only). Sets the type of a
 * global.get and marks ref.func targets as declared (C.refs). */
static bool check_const(decoder *d, wasm_const_expr *e, wasm_valtype want,
                        const char *what, uint32_t i, uint32_t j)
{
    wasm_module *m = d->m;
    char msg[160];
    switch (e->kind) {
    case WASM_CONST_REF_FUNC:
        if (e->index >= m->nfuncs) {
            snprintf(msg, sizeof msg, "unknown function %u", e->index);
            return const_fail(d, what, i, j, msg);
        }
        m->declared_funcs[e->index] = true;
        break;
    case WASM_CONST_GLOBAL_GET:
        if (e->index >= m->nglobal_imports) {
            snprintf(msg, sizeof msg, "unknown global %u%s", e->index,
                     e->index < m->nglobals ? " (constant expressions may "
                     "read imported globals only)" : "");
            return const_fail(d, what, i, j, msg);
        }
        if (m->global_types[e->index].mutable_) {
            snprintf(msg, sizeof msg, "constant expression required: global "
                     "%u is mutable", e->index);
            return const_fail(d, what, i, j, msg);
        }
        e->type = m->global_types[e->index].type;
        break;
    default:
        break;
    }
    if (e->type != want) {
        snprintf(msg, sizeof msg, "type mismatch: expected %s, found %s",
                 wasm_valtype_name(want), wasm_valtype_name(e->type));
        return const_fail(d, what, i, j, msg);
    }
    return true;
}

static bool check_limits(decoder *d, const wasm_limits *l, bool memory,
                         uint32_t i)
{
    const char *what = memory ? "memory" : "table";
    if (memory && (l->min > 65536 || (l->has_max && l->max > 65536)))
        return INVALID(d, "memory %u: memory size must be at most 65536 "
                       "pages (4GiB)", i);
    if (l->has_max && l->min > l->max)
        return INVALID(d, "%s %u: size minimum must not be greater than "
                       "maximum (%u > %u)", what, i, l->min, l->max);
    return true;
}

static bool check_types_and_limits(decoder *d)
{
    wasm_module *m = d->m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        if (im->kind == WASM_EXTERN_FUNC && im->type_index >= m->ntypes)
            return INVALID(d, "import %u (%.*s.%.*s): unknown type index %u",
                           i, name_width(im->module_len), im->module,
                           name_width(im->name_len), im->name,
                           im->type_index);
    }
    for (uint32_t i = 0; i < m->nfunc_defs; i++)
        if (m->func_defs[i].type_index >= m->ntypes)
            return INVALID(d, "function %u: unknown type index %u",
                           m->nfunc_imports + i, m->func_defs[i].type_index);
    for (uint32_t i = 0; i < m->ntables; i++)
        if (!check_limits(d, &m->tables[i].limits, false, i))
            return false;
    if (m->nmemories > 1)
        return INVALID(d, "multiple memories (%u); WebAssembly 2.0 allows "
                       "one", m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++)
        if (!check_limits(d, &m->memories[i], true, i))
            return false;
    return true;
}

static int cmp_export_names(const void *a, const void *b)
{
    const wasm_export *x = *(const wasm_export *const *)a;
    const wasm_export *y = *(const wasm_export *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static bool check_exports(decoder *d)
{
    static const char *const kinds[] = {"function", "table", "memory",
                                        "global"};
    wasm_module *m = d->m;
    const uint32_t sizes[] = {m->nfuncs, m->ntables, m->nmemories, m->nglobals};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export *ex = &m->exports[i];
        if (ex->index >= sizes[ex->kind])
            return INVALID(d, "export %u (%.*s): unknown %s %u", i,
                           name_width(ex->name_len), ex->name,
                           kinds[ex->kind], ex->index);
        if (ex->kind == WASM_EXTERN_FUNC)
            m->declared_funcs[ex->index] = true;
    }
    if (m->nexports < 2)
        return true;
    /* Unique names: sort pointers, compare neighbours (n log n on hostile
     * input, not n^2). */
    const wasm_export **v = malloc(m->nexports * sizeof *v);
    if (!v)
        return decode_nomem(d);
    for (uint32_t i = 0; i < m->nexports; i++)
        v[i] = &m->exports[i];
    qsort(v, m->nexports, sizeof *v, cmp_export_names);
    for (uint32_t i = 1; i < m->nexports; i++) {
        if (cmp_export_names(&v[i - 1], &v[i]) == 0) {
            const wasm_export *ex = v[i];
            free(v);
            return INVALID(d, "duplicate export name \"%.*s\"",
                           name_width(ex->name_len), ex->name);
        }
    }
    free(v);
    return true;
}

static bool check_globals_start(decoder *d)
{
    wasm_module *m = d->m;
    for (uint32_t i = 0; i < m->nglobal_defs; i++) {
        wasm_global_def *g = &m->global_defs[i];
        if (!check_const(d, &g->init, g->type.type, "global",
                         m->nglobal_imports + i, NO_ITEM))
            return false;
    }
    if (!m->has_start)
        return true;
    if (m->start >= m->nfuncs)
        return INVALID(d, "start function: unknown function %u", m->start);
    const wasm_type *t = &m->types[m->func_types[m->start]];
    if (t->nparams || t->nresults)
        return INVALID(d, "start function %u: type must be [] -> [], it "
                       "has %u parameters and %u results", m->start,
                       t->nparams, t->nresults);
    return true;
}

static bool check_segments(decoder *d)
{
    wasm_module *m = d->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        wasm_elem_segment *s = &m->elems[i];
        if (s->mode == WASM_SEG_ACTIVE) {
            if (s->table_index >= m->ntables)
                return INVALID(d, "element segment %u: unknown table %u", i,
                               s->table_index);
            if (!check_const(d, &s->offset, WASM_I32, "element segment", i,
                             NO_ITEM))
                return false;
            if (m->tables[s->table_index].elem != s->type)
                return INVALID(d, "element segment %u: type mismatch: table "
                               "%u holds %s, the segment %s", i,
                               s->table_index,
                               wasm_valtype_name(m->tables[s->table_index].elem),
                               wasm_valtype_name(s->type));
        }
        for (uint32_t j = 0; j < s->count; j++)
            if (!check_const(d, &s->items[j], s->type, "element segment", i,
                             j))
                return false;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        wasm_data_segment *s = &m->datas[i];
        if (s->mode != WASM_SEG_ACTIVE)
            continue;
        if (s->memory_index >= m->nmemories)
            return INVALID(d, "data segment %u: unknown memory %u", i,
                           s->memory_index);
        if (!check_const(d, &s->offset, WASM_I32, "data segment", i, NO_ITEM))
            return false;
    }
    return true;
}

static bool validate(decoder *d)
{
    wasm_module *m = d->m;
    d->sec_id = NO_SECTION;
    d->item_kind = NULL;
    if (m->nfuncs && !(m->declared_funcs = calloc(m->nfuncs, sizeof(bool))))
        return decode_nomem(d);
    return check_types_and_limits(d) && check_globals_start(d) &&
           check_exports(d) && check_segments(d);
}

/* ---- the `name` section (spec 7.4), best effort ----------------------- */

static void free_names(wasm_module *m)
{
    if (!m->func_names)
        return;
    for (uint32_t i = 0; i < m->nfuncs; i++)
        free(m->func_names[i]);
    free(m->func_names);
    m->func_names = NULL;
}

/* Subsection 1: a map from function index to name. */
static bool read_func_names(wasm_module *m, wasm_reader *s)
{
    uint32_t n;
    if (!wasm_read_u32(s, &n) || n > wasm_reader_left(s))
        return false;
    if (n && !m->nfuncs)
        return false;
    if (n && !m->func_names &&
        !(m->func_names = calloc(m->nfuncs, sizeof *m->func_names)))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx, len;
        const uint8_t *p;
        if (!wasm_read_u32(s, &idx) || !wasm_read_u32(s, &len) ||
            !wasm_read_bytes(s, len, &p))
            return false;
        if (idx >= m->nfuncs || m->func_names[idx] || !utf8_valid(p, len))
            return false;
        char *c = malloc((size_t)len + 1);
        if (!c)
            return false;
        memcpy(c, p, len);
        c[len] = '\0';
        m->func_names[idx] = c;
    }
    return wasm_reader_done(s);
}

static bool read_name_section(wasm_module *m, const wasm_custom_section *c)
{
    wasm_reader r;
    wasm_reader_init(&r, m->bytes, (size_t)c->offset + c->size);
    r.p = m->bytes + c->offset;
    int last = -1;
    while (!wasm_reader_done(&r)) {
        uint8_t id;
        uint32_t size;
        wasm_reader s;
        if (!wasm_read_u8(&r, &id) || !wasm_read_u32(&r, &size) ||
            !wasm_reader_sub(&r, size, &s) || (int)id <= last)
            return false;
        last = id;
        if (id == 1 && !read_func_names(m, &s))
            return false;
    }
    return true;
}

/* Takes function names from the first well-formed `name` section; malformed
 * ones are ignored, as the spec asks. */
static void read_names(wasm_module *m)
{
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        const wasm_custom_section *c = &m->customs[i];
        if (c->name_len != 4 || memcmp(c->name, "name", 4) != 0)
            continue;
        if (read_name_section(m, c))
            return;
        free_names(m);
    }
}

/* ---- the module ------------------------------------------------------- */

static bool decode_header(decoder *d, wasm_reader *r)
{
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    const uint8_t *p;
    if (!wasm_read_bytes(r, 4, &p))
        return MALFORMED(d, 0, "unexpected end: no magic header");
    if (memcmp(p, magic, 4) != 0)
        return MALFORMED(d, 0, "magic header not detected");
    if (!wasm_read_bytes(r, 4, &p))
        return MALFORMED(d, 4, "unexpected end: no binary version");
    if (memcmp(p, version, 4) != 0)
        return MALFORMED(d, 4, "unknown binary version");
    return true;
}

static bool decode_section(decoder *d, uint8_t id, wasm_reader *s)
{
    switch (id) {
    case 0: return sec_custom(d, s);
    case 1: return sec_type(d, s);
    case 2: return sec_import(d, s);
    case 3: return sec_function(d, s);
    case 4: return sec_table(d, s);
    case 5: return sec_memory(d, s);
    case 6: return sec_global(d, s);
    case 7: return sec_export(d, s);
    case 8: return sec_start(d, s);
    case 9: return sec_elem(d, s);
    case 10: return sec_code(d, s);
    case 11: return sec_data(d, s);
    default: return sec_datacount(d, s);
    }
}

static bool decode_sections(decoder *d)
{
    wasm_module *m = d->m;
    wasm_reader r;
    wasm_reader_init(&r, m->bytes, m->size);
    if (!decode_header(d, &r))
        return false;
    unsigned last = 0;
    while (!wasm_reader_done(&r)) {
        uint32_t off = wasm_reader_offset(&r), size;
        uint8_t id;
        d->sec_id = NO_SECTION;
        d->item_kind = NULL;
        (void)wasm_read_u8(&r, &id);
        if (id >= sizeof section_rank)
            return MALFORMED(d, off, "malformed section id %u", id);
        d->sec_id = id;
        if (!get_u32(d, &r, &size, "section size"))
            return false;
        wasm_reader s;
        if (!wasm_reader_sub(&r, size, &s))
            return MALFORMED(d, off, "length out of bounds: section of %u "
                             "bytes with %zu left", size, wasm_reader_left(&r));
        if (id != 0) {
            if (section_rank[id] <= last)
                return MALFORMED(d, off, "unexpected content after last "
                                 "section (duplicate or out of order)");
            last = section_rank[id];
        }
        if (!decode_section(d, id, &s))
            return false;
        d->item_kind = NULL;
        if (d->skip_section)
            s.p = s.end;
        d->skip_section = false;
        if (!wasm_reader_done(&s))
            return MALFORMED(d, wasm_reader_offset(&s), "section size "
                             "mismatch: %zu bytes left over",
                             wasm_reader_left(&s));
    }
    d->sec_id = NO_SECTION;
    if (!d->have_code && m->nfunc_defs)
        return MALFORMED(d, UINT32_MAX, "function and code section have "
                         "inconsistent lengths (%u functions, no code "
                         "section)", m->nfunc_defs);
    if (m->has_data_count && !d->have_data && m->data_count)
        return MALFORMED(d, UINT32_MAX, "data count and data section have "
                         "inconsistent lengths (%u and no data section)",
                         m->data_count);
    return true;
}

/* Fills the imported part of each index space (imports come first). */
static bool build_spaces(decoder *d)
{
    wasm_module *m = d->m;
    m->nfuncs = m->nfunc_imports + m->nfunc_defs;
    if (m->nfuncs && !(m->func_types = calloc(m->nfuncs, sizeof(uint32_t))))
        return decode_nomem(d);
    if ((!m->tables && !alloc_space(d, (void **)&m->tables, sizeof *m->tables,
                                    m->ntable_imports, 0, &m->ntables)) ||
        (!m->memories &&
         !alloc_space(d, (void **)&m->memories, sizeof *m->memories,
                      m->nmemory_imports, 0, &m->nmemories)) ||
        (!m->global_types &&
         !alloc_space(d, (void **)&m->global_types, sizeof *m->global_types,
                      m->nglobal_imports, 0, &m->nglobals)))
        return false;
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        switch (im->kind) {
        case WASM_EXTERN_FUNC: m->func_types[nf++] = im->type_index; break;
        case WASM_EXTERN_TABLE: m->tables[nt++] = im->table; break;
        case WASM_EXTERN_MEMORY: m->memories[nm++] = im->memory; break;
        case WASM_EXTERN_GLOBAL: m->global_types[ng++] = im->global; break;
        }
    }
    for (uint32_t i = 0; i < m->nfunc_defs; i++)
        m->func_types[nf + i] = m->func_defs[i].type_index;
    return true;
}

static bool intern_types(decoder *d)
{
    for (uint32_t i = 0; i < d->m->ntypes; i++) {
        wasm_type *t = &d->m->types[i];
        t->id = wasm_type_intern(t->params, t->nparams, t->results,
                                 t->nresults);
        if (t->id == UINT32_MAX)
            return decode_nomem(d);
    }
    return true;
}

/* See module.h. On failure, frees what it allocated (as
 * wasm_module_release() does) and leaves bytes and size alone. */
wasm_err wasm_decode(wasm_module *m, wasm_error *err)
{
    decoder d = {.m = m, .err = err, .sec_id = NO_SECTION};
    wasm_error_clear(err);
    bool ok;
    if (!m->bytes)
        ok = FAIL(&d, m->size ? WASM_ERR_ARGS : WASM_ERR_MALFORMED, 0,
                  m->size ? "no module bytes" : "unexpected end: empty module");
    else if (m->size > UINT32_MAX)
        ok = FAIL(&d, WASM_ERR_UNSUPPORTED, UINT32_MAX,
                  "modules of 4 GiB or more are not supported");
    else
        ok = decode_sections(&d) && build_spaces(&d);
    if (ok && d.deferred) {
        if (err)
            *err = d.pending;
        d.code = d.pending.code;
        ok = false;
    }
    ok = ok && validate(&d) && intern_types(&d);
    if (!ok) {
        wasm_module_release(m);
        return d.code;
    }
    read_names(m);
    return WASM_OK;
}

/* ---- release ---------------------------------------------------------- */

/* Frees everything the decoder allocated and the compiled code; keeps bytes
 * and size (the caller's) and zeroes the rest, so calling it twice is safe. */
void wasm_module_release(wasm_module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        free(m->types[i].params);
        free(m->types[i].results);
    }
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_types);
    for (uint32_t i = 0; i < m->nfunc_defs; i++) {
        free(m->func_defs[i].locals);
        if (m->func_defs[i].code)
            wasm_code_free(m->func_defs[i].code);
    }
    free(m->func_defs);
    free(m->tables);
    free(m->memories);
    free(m->global_types);
    free(m->global_defs);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->declared_funcs);
    for (uint32_t i = 0; i < m->ncustoms; i++)
        free(m->customs[i].name);
    free(m->customs);
    free_names(m);

    /* Every field but bytes and size back to zero: releasing twice is safe. */
    m->ntypes = m->nimports = m->nfunc_imports = m->ntable_imports = 0;
    m->nmemory_imports = m->nglobal_imports = m->nfuncs = m->nfunc_defs = 0;
    m->ntables = m->nmemories = m->nglobals = m->nglobal_defs = 0;
    m->nexports = m->nelems = m->ndatas = m->ncustoms = 0;
    m->types = NULL;
    m->imports = NULL;
    m->func_types = NULL;
    m->func_defs = NULL;
    m->tables = NULL;
    m->memories = NULL;
    m->global_types = NULL;
    m->global_defs = NULL;
    m->exports = NULL;
    m->elems = NULL;
    m->datas = NULL;
    m->declared_funcs = NULL;
    m->customs = NULL;
    m->has_start = m->has_data_count = false;
    m->start = m->data_count = 0;
}
