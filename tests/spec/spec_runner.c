/*
 * spec_runner.c - the driver of the WebAssembly spec tests.
 *
 *   spec_runner --spec-dir DIR --work-dir DIR --spectest spectest.wasm
 *               [--known-failures FILE] [options] [FILE.wast ...]
 *
 * For every .wast file of the spec folder (then of its simd/ folder), or the
 * files named on the command line: convert it with wast2json into the work
 * folder (skipped when the .json is newer than the .wast), run the script in
 * a child process that reports each command through a pipe, and print one
 * line per file with the failures not in the known-failure list (at most
 * --show of them). The last line is `spec: N passed, M failed, K skipped`
 * over the non-SIMD files; SIMD files get a `simd:` line of their own and
 * never fail the run.
 *
 * Exit status: 0 when every non-SIMD failure is listed in the known-failure
 * file, 1 otherwise, 2 for a usage or setup error. Listed entries that no
 * longer fail are printed but do not fail the run.
 *
 * The child process is what makes a crash, a hang (--timeout) or a leak
 * (LeakSanitizer's exit status) cost one file instead of the whole run; the
 * driver itself never calls the engine. --no-fork runs scripts in-process,
 * for debuggers.
 */
#define _POSIX_C_SOURCE 200809L /* fork, kill, strsignal, st_mtim */

#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG (64u << 10) /* longest message accepted from a child */
#define MAX_NOTES 32

typedef struct config {
    const char *spec_dir;
    const char *work_dir;
    const char *wast2json;
    const char *known_path;
    unsigned show;    /* failures shown per file */
    unsigned timeout; /* seconds per file, 0: none */
    bool fork;
    bool simd;
    bool reconvert;
    bool verbose;
    spec_options exec;
} config;

typedef struct totals {
    uint64_t passed, failed, skipped, known, unexpected;
    unsigned files;
    char *unconvertible; /* "a.wast b.wast": files wast2json refuses */
    unsigned nunconvertible;
} totals;

/* One file's results, filled by on_event(). */
typedef struct file_run {
    const config *cfg;
    spec_known *known;
    const char *key; /* "address.wast", "simd/simd_const.wast" */
    bool show_failures;
    uint32_t passed, failed, skipped, known_failed, unexpected;
    uint32_t line; /* of the command running, when in_cmd */
    bool in_cmd;
    bool stopped; /* the script process died during command `line` */
    const char *stderr_path; /* of the script process */
    bool show_stderr;        /* it failed: print the start of its stderr */
    char **shown;
    unsigned nshown;
    uint32_t hidden;
    char *notes[4]; /* printed after the file's line */
    unsigned nnotes;
} file_run;

/* Notes already printed: each is printed once per run. */
static char *seen_notes[MAX_NOTES];
static unsigned nseen_notes;

static void out_of_memory(void)
{
    fprintf(stderr, "spec: out of memory\n");
    exit(2);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s)
        out_of_memory();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- events ------------------------------------------------------------- */

static void add_detail(file_run *fr, char *text)
{
    if (fr->nshown >= fr->cfg->show && !fr->cfg->verbose) {
        fr->hidden++;
        free(text);
        return;
    }
    if ((fr->nshown & (fr->nshown - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        char **n = realloc(fr->shown, (fr->nshown ? fr->nshown * 2 : 1) *
                                          sizeof *n);
        if (!n)
            out_of_memory();
        fr->shown = n;
    }
    fr->shown[fr->nshown++] = text;
}

/* Keeps a note for the end of the file, unless an earlier file had it. */
static void add_note(file_run *fr, const char *msg)
{
    for (unsigned i = 0; i < nseen_notes; i++)
        if (strcmp(seen_notes[i], msg) == 0)
            return;
    if (nseen_notes < MAX_NOTES)
        seen_notes[nseen_notes++] = xasprintf("%s", msg);
    if (fr->nnotes < sizeof fr->notes / sizeof fr->notes[0])
        fr->notes[fr->nnotes++] = xasprintf("%s", msg);
}

static void on_event(void *env, spec_status st, uint32_t line, const char *msg)
{
    file_run *fr = env;
    switch (st) {
    case SPEC_START:
        fr->line = line;
        fr->in_cmd = true;
        return;
    case SPEC_PASS:
        fr->passed++;
        break;
    case SPEC_SKIP:
        fr->skipped++;
        if (fr->cfg->verbose)
            add_detail(fr, xasprintf("%s:%u: skipped: %s", fr->key,
                                     (unsigned)line, msg));
        break;
    case SPEC_FAIL: {
        fr->failed++;
        const char *reason = spec_known_match(fr->known, fr->key, line);
        if (reason) {
            fr->known_failed++;
            if (fr->cfg->verbose)
                add_detail(fr, xasprintf("%s:%u: %s [known: %s]", fr->key,
                                         (unsigned)line, msg, reason));
        } else {
            fr->unexpected++;
            if (fr->show_failures && line == 0)
                add_detail(fr, xasprintf("%s: %s", fr->key, msg));
            else if (fr->show_failures)
                add_detail(fr, xasprintf("%s:%u: %s", fr->key,
                                         (unsigned)line, msg));
            else
                fr->hidden++;
        }
        break;
    }
    case SPEC_NOTE:
        add_note(fr, msg);
        return;
    default:
        return;
    }
    fr->in_cmd = false;
}

/* ---- child processes ---------------------------------------------------- */

typedef struct wire {
    uint32_t status, line, len;
} wire;

static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void child_report(void *env, spec_status st, uint32_t line,
                         const char *msg)
{
    int fd = *(int *)env;
    size_t len = strlen(msg);
    if (len > MAX_MSG - 1)
        len = MAX_MSG - 1;
    wire w = {(uint32_t)st, line, (uint32_t)len};
    if (!write_all(fd, &w, sizeof w) || !write_all(fd, msg, len))
        _exit(3); /* the driver is gone */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads exactly n bytes. Returns 1, 0 at end of file before any byte, -1 on
 * error or short read, -2 when the deadline (0: none) passes. */
static int read_full(int fd, void *buf, size_t n, double deadline)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        int ms = -1;
        if (deadline > 0) {
            double left = deadline - now();
            if (left <= 0)
                return -2;
            ms = left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            return -2;
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return got ? -1 : 0;
        got += (size_t)r;
    }
    return 1;
}

/* The first line of a sanitizer's or the C library's complaint in the
 * file, without its newline, or "" (a static buffer). */
static const char *first_complaint(const char *path)
{
    static const char *const marks[] = {"runtime error", "ERROR: ",
                                        "SUMMARY: ", "Assertion", "abort"};
    static char found[512];
    char line[512];
    found[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return found;
    while (!found[0] && fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
            if (strstr(line, marks[i])) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(found, sizeof found, "%s", line);
                break;
            }
        }
    }
    fclose(f);
    return found;
}

/* Prints the first lines of the file, indented. */
static void print_head(const char *path, unsigned max_lines)
{
    char line[1024];
    unsigned n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (n++ == max_lines) {
            printf("  | ... (the rest is in %s)\n", path);
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        printf("  | %s\n", line);
    }
    fclose(f);
}

/* Runs the script in a child whose stderr goes to fr->stderr_path; returns
 * true if it ran to its end. */
static bool run_forked(const char *json, file_run *fr)
{
    int fds[2];
    if (pipe(fds) != 0) {
        on_event(fr, SPEC_FAIL, 0, "pipe() failed");
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        on_event(fr, SPEC_FAIL, 0, "fork() failed");
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        signal(SIGPIPE, SIG_DFL);
        int efd = open(fr->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (efd >= 0) {
            dup2(efd, 2);
            close(efd);
        }
        spec_run_script(json, &fr->cfg->exec, child_report, &fds[1]);
        close(fds[1]);
        exit(0); /* exit(), not _exit(): LeakSanitizer checks here */
    }
    close(fds[1]);

    double deadline = fr->cfg->timeout ? now() + fr->cfg->timeout : 0;
    char *msg = malloc(MAX_MSG);
    if (!msg)
        out_of_memory();
    int rc;
    const char *problem = NULL;
    for (;;) {
        wire w;
        rc = read_full(fds[0], &w, sizeof w, deadline);
        if (rc <= 0)
            break;
        if (w.len >= MAX_MSG) {
            problem = "protocol error (message too long)";
            break;
        }
        rc = read_full(fds[0], msg, w.len, deadline);
        if (rc <= 0) {
            rc = rc == 0 ? -1 : rc;
            break;
        }
        msg[w.len] = '\0';
        on_event(fr, (spec_status)w.status, w.line, msg);
    }
    free(msg);
    close(fds[0]);
    if (rc == -2) {
        problem = "timed out";
        kill(pid, SIGKILL);
    } else if (problem) {
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;

    char *what = NULL;
    if (problem && rc == -2)
        what = xasprintf("timed out after %u s (--timeout)", fr->cfg->timeout);
    else if (problem)
        what = xasprintf("%s", problem);
    else if (WIFSIGNALED(status))
        what = xasprintf("crashed: signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        what = xasprintf("script process exited with status %d%s",
                         WEXITSTATUS(status),
                         WEXITSTATUS(status) == 23 ? " (leaks?)" : "");
    if (!what)
        return !fr->in_cmd;
    /* Blame the command that was running, or the file as a whole. */
    fr->stopped = fr->in_cmd;
    const char *why = first_complaint(fr->stderr_path);
    char *full = xasprintf("%s%s%s", what, why[0] ? ": " : "", why);
    uint32_t line = fr->in_cmd ? fr->line : 0;
    uint32_t before = fr->unexpected;
    on_event(fr, SPEC_FAIL, line, full);
    /* An unexpected death: show what the process said. */
    fr->show_stderr = fr->unexpected > before &&
                      (fr->show_failures || fr->cfg->verbose);
    free(full);
    free(what);
    return false;
}

static bool run_wast2json(const config *cfg, const char *wast, const char *json,
                          const char *log, char **why);

/* Writes the compat rewrite of `wast` (spec_compat.c) next to `json`;
 * returns its path, or NULL when no rule applies. */
static char *compat_copy(const char *wast, const char *json)
{
    FILE *f = fopen(wast, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 65536 + 1 > cap) {
            char *nt = realloc(text, cap = n + 65536 + 1);
            if (!nt) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = nt;
        }
        got = fread(text + n, 1, 65536, f);
        n += got;
    } while (got > 0);
    fclose(f);
    text[n] = '\0';
    int changes = 0;
    char *fixed = spec_compat_rewrite(text, &changes);
    free(text);
    if (!fixed || changes == 0) {
        free(fixed);
        return NULL;
    }
    char *path = xasprintf("%.*s.compat.wast", (int)(strlen(json) - 5), json);
    f = fopen(path, "wb");
    bool ok = f && fputs(fixed, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    free(fixed);
    if (!ok) {
        free(path);
        return NULL;
    }
    return path;
}

/* Converts `wast` to `json` with wast2json, retrying once with the compat
 * rewrite when wast2json refuses the original; on failure returns false
 * with the first line of its complaint in *why (malloc'ed). */
static bool convert(const config *cfg, const char *wast, const char *json,
                    const char *log, char **why)
{
    struct stat sw, sj;
    *why = NULL;
    if (stat(wast, &sw) != 0) {
        *why = xasprintf("cannot stat %s: %s", wast, strerror(errno));
        return false;
    }
    if (!cfg->reconvert && stat(json, &sj) == 0 &&
        (sj.st_mtim.tv_sec > sw.st_mtim.tv_sec ||
         (sj.st_mtim.tv_sec == sw.st_mtim.tv_sec &&
          sj.st_mtim.tv_nsec >= sw.st_mtim.tv_nsec)))
        return true;
    if (run_wast2json(cfg, wast, json, log, why))
        return true;
    char *compat = compat_copy(wast, json);
    if (!compat)
        return false;
    char *why2 = NULL;
    bool ok = run_wast2json(cfg, compat, json, log, &why2);
    free(compat);
    if (ok) {
        free(*why);
        *why = NULL;
    }
    free(why2);
    return ok;
}

static bool run_wast2json(const config *cfg, const char *wast, const char *json,
                          const char *log, char **why)
{
    struct stat sj;
    *why = NULL;
    unlink(json);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        *why = xasprintf("fork() failed");
        return false;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* wast2json aborts on some files */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp(cfg->wast2json, cfg->wast2json, wast, "-o", json, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", cfg->wast2json, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(json, &sj) == 0)
        return true;
    unlink(json);

    char line[256] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
    }
    if (WIFSIGNALED(status))
        *why = xasprintf("wast2json died of signal %d: %s", WTERMSIG(status),
                         line);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        *why = xasprintf("%s", line[0] ? line : "cannot run wast2json");
    else
        *why = xasprintf("wast2json: %s", line[0] ? line : "failed");
    return false;
}

/* ---- files -------------------------------------------------------------- */

static int strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the .wast files of spec_dir/sub (sub "" or "simd/") as keys. */
static bool list_dir(const char *spec_dir, const char *sub, char ***keys,
                     size_t *n)
{
    char *path = xasprintf("%s/%s", spec_dir, sub);
    DIR *d = opendir(path);
    free(path);
    if (!d)
        return false;
    size_t first = *n;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".wast") != 0)
            continue;
        char **nk = realloc(*keys, (*n + 1) * sizeof *nk);
        if (!nk)
            out_of_memory();
        *keys = nk;
        (*keys)[(*n)++] = xasprintf("%s%s", sub, de->d_name);
    }
    closedir(d);
    qsort(*keys + first, *n - first, sizeof **keys, strcmp_p);
    return true;
}

static bool file_exists(const char *key, void *env)
{
    const config *cfg = env;
    char *path = xasprintf("%s/%s", cfg->spec_dir, key);
    struct stat st;
    bool ok = stat(path, &st) == 0;
    free(path);
    return ok;
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "spec: cannot create %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* Converts and runs one file; adds its results to *t. */
static void run_file(const config *cfg, spec_known *known, const char *key,
                     bool explicit_file, totals *t)
{
    bool simd = strncmp(key, "simd/", 5) == 0;
    file_run fr = {
        .cfg = cfg,
        .known = known,
        .key = key,
        .show_failures = !simd || explicit_file || cfg->verbose,
    };
    size_t kl = strlen(key);
    char *wast = xasprintf("%s/%s", cfg->spec_dir, key);
    char *json = xasprintf("%s/%.*s.json", cfg->work_dir, (int)(kl - 5), key);
    char *log = xasprintf("%s/%.*s.log", cfg->work_dir, (int)(kl - 5), key);
    char *err = xasprintf("%s/%.*s.stderr", cfg->work_dir, (int)(kl - 5), key);
    fr.stderr_path = err;
    char *why = NULL;
    bool complete;

    if (!convert(cfg, wast, json, log, &why)) {
        /* wast2json refused the script (the shared README lists which):
         * its commands cannot run, which is neither a pass nor a failure
         * of the engine. Not being able to run wast2json at all is. */
        bool ran = strncmp(why, "wast2json", 9) == 0;
        if (ran) {
            printf("%s: not convertible by wast2json (%s): not run\n", key, why);
            char *list = xasprintf("%s%s%s", t->unconvertible ? t->unconvertible : "",
                                   t->unconvertible ? " " : "", key);
            free(t->unconvertible);
            t->unconvertible = list;
            t->nunconvertible++;
        } else {
            char *msg = xasprintf("cannot convert (%s)", why);
            on_event(&fr, SPEC_FAIL, 0, msg);
            printf("%s: %s\n", key, msg);
            free(msg);
        }
        free(why);
        complete = true; /* so that a `FILE:*` entry is not reported fixed */
    } else {
        if (cfg->fork) {
            complete = run_forked(json, &fr);
        } else {
            spec_run_script(json, &cfg->exec, on_event, &fr);
            complete = !fr.in_cmd;
        }
        printf("%s: %u passed, %u failed, %u skipped", key, fr.passed,
               fr.failed, fr.skipped);
        if (fr.known_failed)
            printf(" (%u known)", fr.known_failed);
        if (fr.stopped)
            printf(" (stopped at line %u)", (unsigned)fr.line);
        printf("\n");
        for (unsigned i = 0; i < fr.nshown; i++)
            printf("  %s\n", fr.shown[i]);
        if (fr.hidden && fr.show_failures)
            printf("  ... and %u more failure%s not shown\n", fr.hidden,
                   fr.hidden == 1 ? "" : "s");
        if (fr.show_stderr)
            print_head(err, cfg->verbose ? 1000 : 30);
    }
    for (unsigned i = 0; i < fr.nnotes; i++) {
        printf("  note: %s\n", fr.notes[i]);
        free(fr.notes[i]);
    }
    spec_known_file_ran(known, key, complete, fr.failed);
    fflush(stdout);

    t->passed += fr.passed;
    t->failed += fr.failed;
    t->skipped += fr.skipped;
    t->known += fr.known_failed;
    t->unexpected += fr.unexpected;
    t->files++;
    for (unsigned i = 0; i < fr.nshown; i++)
        free(fr.shown[i]);
    free(fr.shown);
    free(wast);
    free(json);
    free(log);
    free(err);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: spec_runner --spec-dir DIR --work-dir DIR --spectest FILE\n"
            "                   [options] [FILE.wast ...]\n"
            "  --spec-dir DIR         the .wast files (and DIR/simd/)\n"
            "  --work-dir DIR         where wast2json output goes\n"
            "  --spectest FILE        the compiled spectest.wat\n"
            "  --known-failures FILE  lines `FILE:LINE reason` or `FILE:* reason`\n"
            "  --wast2json PATH       (default: wast2json from PATH)\n"
            "  --fuel N               fuel per action (default 1000000000)\n"
            "  --timeout S            seconds per file, 0 for none (default 300)\n"
            "  --show N               failures shown per file (default 5)\n"
            "  --no-simd              skip DIR/simd/\n"
            "  --no-fork              run scripts in this process (debugging)\n"
            "  --reconvert            run wast2json even if the .json is newer\n"
            "  -v, --verbose          show every failure, skip and known failure\n"
            "FILE.wast is a path below DIR (`i32.wast`, `simd/simd_const.wast`);\n"
            "the .wast suffix may be left out.\n");
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, config *cfg)
{
    enum { O_SPEC = 256, O_WORK, O_SPECTEST, O_KNOWN, O_WAST2JSON, O_FUEL,
           O_TIMEOUT, O_SHOW, O_NOSIMD, O_NOFORK, O_RECONVERT };
    static const struct option opts[] = {
        {"spec-dir", required_argument, NULL, O_SPEC},
        {"work-dir", required_argument, NULL, O_WORK},
        {"spectest", required_argument, NULL, O_SPECTEST},
        {"known-failures", required_argument, NULL, O_KNOWN},
        {"wast2json", required_argument, NULL, O_WAST2JSON},
        {"fuel", required_argument, NULL, O_FUEL},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"show", required_argument, NULL, O_SHOW},
        {"no-simd", no_argument, NULL, O_NOSIMD},
        {"no-fork", no_argument, NULL, O_NOFORK},
        {"reconvert", no_argument, NULL, O_RECONVERT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    uint64_t v;
    while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (o) {
        case O_SPEC: cfg->spec_dir = optarg; break;
        case O_WORK: cfg->work_dir = optarg; break;
        case O_SPECTEST: cfg->exec.spectest_wasm = optarg; break;
        case O_KNOWN: cfg->known_path = optarg; break;
        case O_WAST2JSON: cfg->wast2json = optarg; break;
        case O_NOSIMD: cfg->simd = false; break;
        case O_NOFORK: cfg->fork = false; break;
        case O_RECONVERT: cfg->reconvert = true; break;
        case 'v': cfg->verbose = cfg->exec.verbose = true; break;
        case 'h': usage(stdout); exit(0);
        case O_FUEL:
        case O_TIMEOUT:
        case O_SHOW:
            if (!parse_uint(optarg, o == O_FUEL ? UINT64_MAX : 1000000, &v)) {
                fprintf(stderr, "spec: bad number %s\n", optarg);
                return -1;
            }
            if (o == O_FUEL)
                cfg->exec.fuel = v;
            else if (o == O_TIMEOUT)
                cfg->timeout = (unsigned)v;
            else
                cfg->show = (unsigned)v;
            break;
        default: usage(stderr); return -1;
        }
    }
    if (!cfg->spec_dir || !cfg->work_dir || !cfg->exec.spectest_wasm) {
        usage(stderr);
        return -1;
    }
    return optind;
}

int main(int argc, char **argv)
{
    config cfg = {
        .wast2json = "wast2json",
        .show = 5,
        .timeout = 300,
        .fork = true,
        .simd = true,
        .exec = {.fuel = 1000000000},
    };
    int first = parse_args(argc, argv, &cfg);
    if (first < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);

    spec_known *known = spec_known_load(cfg.known_path);
    if (!known)
        return 2;

    char **keys = NULL;
    size_t nkeys = 0;
    bool explicit_files = first < argc;
    if (explicit_files) {
        for (int i = first; i < argc; i++) {
            const char *a = argv[i];
            size_t l = strlen(a);
            char **nk = realloc(keys, (nkeys + 1) * sizeof *nk);
            if (!nk)
                out_of_memory();
            keys = nk;
            keys[nkeys++] = l > 5 && strcmp(a + l - 5, ".wast") == 0
                                ? xasprintf("%s", a)
                                : xasprintf("%s.wast", a);
        }
    } else {
        if (!list_dir(cfg.spec_dir, "", &keys, &nkeys) || nkeys == 0) {
            fprintf(stderr, "spec: no .wast files in %s\n", cfg.spec_dir);
            spec_known_free(known);
            free(keys);
            return 2;
        }
        if (cfg.simd)
            list_dir(cfg.spec_dir, "simd/", &keys, &nkeys);
    }
    make_dir(cfg.work_dir);
    char *simd_dir = xasprintf("%s/simd", cfg.work_dir);
    make_dir(simd_dir);
    free(simd_dir);

    totals spec = {0}, simd = {0};
    for (size_t i = 0; i < nkeys; i++) {
        bool is_simd = strncmp(keys[i], "simd/", 5) == 0;
        run_file(&cfg, known, keys[i], explicit_files, is_simd ? &simd : &spec);
    }

    size_t fixed = spec_known_report_fixed(known, !explicit_files, file_exists,
                                           &cfg);
    if (simd.files)
        printf("simd: %llu passed, %llu failed, %llu skipped\n",
               (unsigned long long)simd.passed, (unsigned long long)simd.failed,
               (unsigned long long)simd.skipped);
    if (spec.nunconvertible)
        printf("not convertible by wast2json, not run: %u file%s (%s)\n",
               spec.nunconvertible, spec.nunconvertible == 1 ? "" : "s",
               spec.unconvertible);
    if (spec.known || fixed)
        printf("known failures: %llu (listed in %s)%s\n",
               (unsigned long long)spec.known,
               cfg.known_path ? cfg.known_path : "-",
               fixed ? "; some listed entries now pass, see above" : "");
    if (spec.unexpected)
        printf("unexpected failures: %llu (fix them, or list them in the "
               "known-failure file)\n",
               (unsigned long long)spec.unexpected);
    printf("spec: %llu passed, %llu failed, %llu skipped\n",
           (unsigned long long)spec.passed, (unsigned long long)spec.failed,
           (unsigned long long)spec.skipped);

    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    free(spec.unconvertible);
    free(simd.unconvertible);
    for (unsigned i = 0; i < nseen_notes; i++)
        free(seen_notes[i]);
    spec_known_free(known);
    return spec.unexpected ? 1 : 0;
}
