/*
 * spec_compat.c - rewrites of spec scripts that wabt 1.0.32's wast2json
 * cannot parse into equivalent text it can, so that their commands run
 * instead of being skipped. Each rule keeps line numbers unchanged (it only
 * inserts or replaces within a line) so known-failure entries still match.
 *
 *  1. `table.get|set|fill|grow|size` without a table index: the text format
 *     defaults the index to 0; wabt 1.0.32 requires it. Insert " 0".
 *  2. if.wast's "atypical condition" `(if (i32.const 1) (i32.eqz) (then)
 *     (else))` folds two condition instructions, which wabt rejects; the
 *     same condition folded the usual way is `(if (i32.eqz (i32.const 1))`.
 */
#include "spec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const table_ops[] = {"table.get", "table.set", "table.fill",
                                        "table.grow", "table.size"};

static const char atypical[] = "(if (i32.const 1) (i32.eqz) (then) (else))";
static const char atypical_fixed[] = "(if (i32.eqz (i32.const 1)) (then) (else))";

/* Does a table instruction start at p (as a whole token)? Returns its
 * length or 0. */
static size_t table_op_at(const char *text, const char *p)
{
    if (p > text && !isspace((unsigned char)p[-1]) && p[-1] != '(')
        return 0;
    for (size_t i = 0; i < sizeof table_ops / sizeof table_ops[0]; i++) {
        size_t n = strlen(table_ops[i]);
        if (strncmp(p, table_ops[i], n) == 0 &&
            (isspace((unsigned char)p[n]) || p[n] == ')' || p[n] == '(' || !p[n]))
            return n;
    }
    return 0;
}

char *spec_compat_rewrite(const char *text, int *changes)
{
    size_t len = strlen(text);
    /* Each rule adds at most 2 bytes per occurrence. */
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    char *o = out;
    *changes = 0;
    for (const char *p = text; *p;) {
        if (strncmp(p, atypical, sizeof atypical - 1) == 0) {
            memcpy(o, atypical_fixed, sizeof atypical_fixed - 1);
            o += sizeof atypical_fixed - 1;
            p += sizeof atypical - 1;
            (*changes)++;
            continue;
        }
        size_t n = table_op_at(text, p);
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
            const char *q = p;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q != '$' && !isdigit((unsigned char)*q)) {
                memcpy(o, " 0", 2);
                o += 2;
                (*changes)++;
            }
            continue;
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}
