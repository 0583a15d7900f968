/*
 * spec.h - shared declarations of the WebAssembly spec-test runner.
 *
 * The runner has two halves that talk through spec_report():
 *
 *   spec_runner.c  the driver: finds the .wast files, converts them with
 *                  wast2json, runs each converted script in a child process
 *                  (so an engine crash or hang costs one file, not the run),
 *                  counts results, matches failures against the known-failure
 *                  list and prints the summary. It never calls the engine.
 *   spec_exec.c    the executor: reads one wast2json script and runs its
 *                  commands against the engine (include/water/wasm.h),
 *                  reporting every command as started, then passed, failed
 *                  or skipped.
 *
 * spec_value.c parses, compares and prints values; spec_known.c holds the
 * known-failure list.
 */
#ifndef WATER_SPEC_H
#define WATER_SPEC_H

#include "water/wasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- reporting (executor -> driver) ----------------------------------- */

typedef enum spec_status {
    SPEC_START = 1, /* a command begins (so a crash can be blamed on it) */
    SPEC_PASS,
    SPEC_FAIL,
    SPEC_SKIP,
    SPEC_NOTE, /* a remark about the file, not a command result */
} spec_status;

/* Receives one event. `msg` is NUL-terminated and valid only during the
 * call; `line` is the command's line in the .wast file (0: none). */
typedef void (*spec_report_fn)(void *env, spec_status status, uint32_t line,
                               const char *msg);

typedef struct spec_options {
    const char *spectest_wasm; /* compiled tests/spec/spectest.wat */
    uint64_t fuel;             /* per action */
    bool verbose;              /* spectest print functions print */
} spec_options;

/*
 * Runs every command of the wast2json script `json_path` (the .wasm files it
 * names are looked up beside it). Each command produces SPEC_START, then one
 * of SPEC_PASS, SPEC_FAIL (msg says what was expected and what happened) or
 * SPEC_SKIP (msg says why). Problems with the script itself are reported as
 * failures at line 0. Frees everything it allocates.
 */
void spec_run_script(const char *json_path, const spec_options *opt,
                     spec_report_fn report, void *env);

/* Names with a NUL cannot go through the C API. spec_exec.c rewrites each
 * JSON escape \u0000 as the six characters `\u0000` (an escaped backslash)
 * before parsing, skips the actions whose name contains them, and
 * spec_fmt_name() prints them as \x00. */
#define NUL_MARK "\\u0000"

/* ---- values (spec_value.c) -------------------------------------------- */

struct cJSON;

/* What an assert_return accepts for one result. */
typedef enum spec_expect_kind {
    SPEC_EXACT,        /* same type, same bits (or same reference) */
    SPEC_NAN_CANON,    /* f32/f64: the canonical NaN, either sign */
    SPEC_NAN_ARITH,    /* f32/f64: any quiet NaN */
    SPEC_ANY_NONNULL,  /* funcref/externref: any non-null reference */
} spec_expect_kind;

typedef struct spec_expect {
    spec_expect_kind kind;
    wasm_val val; /* type always set; value for SPEC_EXACT */
} spec_expect;

/* The externref value that stands for the script's `ref.extern N`. */
void *spec_extern_ref(uint64_t n);

/* spec_compat.c: the script rewritten for wast2json 1.0.32 (malloc'ed),
 * with *changes counting the rewrites made (0: nothing to do). */
char *spec_compat_rewrite(const char *text, int *changes);

/* Parses a wast2json value object ({"type": ..., "value": ...}). Return
 * false with a reason in why[0..whylen) when it cannot be expressed. */
bool spec_parse_arg(const struct cJSON *json, wasm_val *out, char *why,
                    size_t whylen);
bool spec_parse_expect(const struct cJSON *json, spec_expect *out, char *why,
                       size_t whylen);

bool spec_expect_match(const spec_expect *e, const wasm_val *v);

/* Writes a printable form to buf (always NUL-terminated, truncated to
 * fit); returns buf. */
char *spec_fmt_val(char *buf, size_t len, const wasm_val *v);
char *spec_fmt_expect(char *buf, size_t len, const spec_expect *e);
/* A string with control and non-ASCII bytes escaped, quoted. */
char *spec_fmt_name(char *buf, size_t len, const char *s);
const char *spec_valtype_name(wasm_valtype t);

/* ---- known failures (spec_known.c) ------------------------------------ */

typedef struct spec_known spec_known;

/*
 * Loads the list: lines `FILE:LINE reason` or `FILE:* reason`; `#` starts a
 * comment line. Returns NULL and prints the problem to stderr when the file
 * cannot be read or a line is malformed. A NULL path gives an empty list.
 */
spec_known *spec_known_load(const char *path);
void spec_known_free(spec_known *k);
/* Whether a failure at FILE:LINE is listed; marks the entry as seen. Line 0
 * (a failure not tied to a command) matches only `FILE:*`. Returns the
 * reason, or NULL. */
const char *spec_known_match(spec_known *k, const char *file, uint32_t line);
/* Records that FILE ran to its end (complete) or was cut short by a crash. */
void spec_known_file_ran(spec_known *k, const char *file, bool complete,
                         uint32_t failures);
/* Prints the entries whose file ran to its end and that matched no failure
 * (a `FILE:*` entry: whose file had no failure); returns their number. With
 * check_stale, also prints the entries whose file_exists() is false. */
size_t spec_known_report_fixed(const spec_known *k, bool check_stale,
                               bool (*file_exists)(const char *file,
                                                   void *env),
                               void *env);

#endif /* WATER_SPEC_H */
