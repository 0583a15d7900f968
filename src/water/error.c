/*
 * error.c - error messages and logging of the WATER host.
 */
#include "host.h"

#include <stdarg.h>
#include <stdio.h>

#define MSG_ROW(name, msg) [name] = msg,
static const char *const messages[] = {WATER_ERROR_LIST(MSG_ROW)};
#undef MSG_ROW

const char *water_strerror(water_err code)
{
    if ((unsigned)code >= sizeof messages / sizeof messages[0])
        return "unknown error";
    return messages[code];
}

water_err water_error_set(water_error *err, water_err code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void water_log(const water_transport *t, water_log_level level, const char *fmt, ...)
{
    if (t && level > t->opts.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t && t->opts.log)
        t->opts.log(t->opts.log_user, level, msg);
    else
        fprintf(stderr, "water: %s: %s\n", level_names[level], msg);
}
