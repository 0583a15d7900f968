/*
 * spec_known.c - the list of known spec-test failures.
 *
 * Format, one entry a line: `FILE:LINE reason` for one command, or
 * `FILE:* reason` for a whole file; FILE is the path below the spec folder
 * (`address.wast`, `simd/simd_const.wast`), LINE the command's line in it.
 * A reason is required. Blank lines and lines starting with `#` are ignored.
 *
 * Entries are sorted by (file, line) for binary search; a whole-file entry
 * has line 0, which no command has.
 */
#define _POSIX_C_SOURCE 200809L /* getline, strdup */

#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct known_entry {
    char *file;
    uint32_t line; /* 0: the whole file */
    char *reason;
    unsigned src_line; /* line in the list file, for messages */
    bool matched;      /* a failure matched it */
    bool ran;          /* its file ran */
    bool complete;     /* ... to its end */
    uint32_t failures; /* failures in its file (whole-file entries) */
} known_entry;

struct spec_known {
    known_entry *e;
    size_t n;
    char *path;
};

static int entry_cmp(const void *a, const void *b)
{
    const known_entry *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static known_entry *find(const spec_known *k, const char *file, uint32_t line)
{
    if (!k || k->n == 0)
        return NULL;
    known_entry key = {.file = (char *)file, .line = line};
    return bsearch(&key, k->e, k->n, sizeof k->e[0], entry_cmp);
}

void spec_known_free(spec_known *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        free(k->e[i].file);
        free(k->e[i].reason);
    }
    free(k->e);
    free(k->path);
    free(k);
}

/* Parses one non-comment line into *e; returns an error text or NULL. */
static const char *parse_line(char *s, known_entry *e)
{
    char *sp = s + strcspn(s, " \t");
    if (*sp == '\0')
        return "missing reason (expected `FILE:LINE reason`)";
    *sp++ = '\0';
    while (*sp == ' ' || *sp == '\t')
        sp++;
    size_t rl = strlen(sp);
    while (rl && (sp[rl - 1] == ' ' || sp[rl - 1] == '\t' ||
                  sp[rl - 1] == '\r'))
        sp[--rl] = '\0';
    if (rl == 0)
        return "missing reason";

    char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return "expected FILE:LINE or FILE:*";
    *colon = '\0';
    const char *ln = colon + 1;
    if (strcmp(ln, "*") == 0) {
        e->line = 0;
    } else {
        char *end;
        errno = 0;
        unsigned long v = strtoul(ln, &end, 10);
        if (errno || end == ln || *end || v == 0 || v > UINT32_MAX ||
            ln[0] < '0' || ln[0] > '9')
            return "LINE must be a positive number or *";
        e->line = (uint32_t)v;
    }
    e->file = strdup(s);
    e->reason = strdup(sp);
    if (!e->file || !e->reason)
        return "out of memory";
    return NULL;
}

spec_known *spec_known_load(const char *path)
{
    spec_known *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    if (!path)
        return k;
    k->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f || !k->path) {
        fprintf(stderr, "spec: cannot read %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        spec_known_free(k);
        return NULL;
    }
    size_t cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    unsigned lineno = 0;
    bool ok = true;
    while (getline(&line, &linecap, f) != -1) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#' || strspn(s, " \t\r") == strlen(s))
            continue;
        if (k->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            known_entry *ne = realloc(k->e, nc * sizeof *ne);
            if (!ne) {
                fprintf(stderr, "spec: out of memory\n");
                ok = false;
                break;
            }
            k->e = ne;
            cap = nc;
        }
        known_entry *e = &k->e[k->n];
        memset(e, 0, sizeof *e);
        e->src_line = lineno;
        const char *bad = parse_line(s, e);
        k->n++; /* so that spec_known_free frees its strings */
        if (bad) {
            fprintf(stderr, "%s:%u: %s\n", path, lineno, bad);
            ok = false;
        }
    }
    free(line);
    fclose(f);
    if (!ok) {
        spec_known_free(k);
        return NULL;
    }
    if (k->n)
        qsort(k->e, k->n, sizeof k->e[0], entry_cmp);
    for (size_t i = 1; i < k->n; i++) {
        if (entry_cmp(&k->e[i - 1], &k->e[i]) == 0) {
            fprintf(stderr, "%s:%u: duplicate of line %u\n", path,
                    k->e[i].src_line, k->e[i - 1].src_line);
            ok = false;
        }
    }
    if (!ok) {
        spec_known_free(k);
        return NULL;
    }
    return k;
}

const char *spec_known_match(spec_known *k, const char *file, uint32_t line)
{
    known_entry *e = line ? find(k, file, line) : NULL;
    if (!e)
        e = find(k, file, 0);
    if (!e)
        return NULL;
    e->matched = true;
    return e->reason;
}

void spec_known_file_ran(spec_known *k, const char *file, bool complete,
                         uint32_t failures)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->e[i].file, file) == 0) {
            k->e[i].ran = true;
            k->e[i].complete = complete;
            k->e[i].failures = failures;
        }
    }
}

size_t spec_known_report_fixed(const spec_known *k, bool check_stale,
                               bool (*file_exists)(const char *file,
                                                   void *env),
                               void *env)
{
    size_t fixed = 0;
    if (!k)
        return 0;
    for (size_t i = 0; i < k->n; i++) {
        const known_entry *e = &k->e[i];
        char where[32];
        if (e->line)
            snprintf(where, sizeof where, "%u", (unsigned)e->line);
        else
            snprintf(where, sizeof where, "*");
        if (!e->ran) {
            if (check_stale && file_exists && !file_exists(e->file, env))
                printf("known failure for a file that does not exist: "
                       "%s:%s (%s:%u)\n",
                       e->file, where, k->path, e->src_line);
            continue;
        }
        /* A whole-file entry is fixed when the file has no failure left;
         * a line entry when its file ran to the end without failing there. */
        bool now_passes = e->line ? (e->complete && !e->matched)
                                  : (e->complete && e->failures == 0);
        if (!now_passes)
            continue;
        if (fixed++ == 0)
            printf("known failures that now pass (remove them from %s):\n",
                   k->path);
        printf("  %s:%s %s\n", e->file, where, e->reason);
    }
    return fixed;
}
