/*
 * error.c - error codes, trap reasons and the wasm_error filler.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_ROW(name, msg) [name] = msg,
static const char *const err_messages[] = {WASM_ERROR_LIST(MSG_ROW)};
static const char *const trap_messages[] = {WASM_TRAP_LIST(MSG_ROW)};
#undef MSG_ROW

const char *wasm_strerror(wasm_err code)
{
    if ((unsigned)code >= sizeof err_messages / sizeof err_messages[0])
        return "unknown error";
    return err_messages[code];
}

const char *wasm_trap_message(wasm_trap trap)
{
    if ((unsigned)trap >= sizeof trap_messages / sizeof trap_messages[0])
        return "unknown trap";
    return trap_messages[trap];
}

void wasm_error_clear(wasm_error *err)
{
    if (!err)
        return;
    err->code = WASM_OK;
    err->trap = WASM_TRAP_NONE;
    err->exit_code = 0;
    err->offset = UINT32_MAX;
    err->func_index = UINT32_MAX;
    err->message[0] = '\0';
}

wasm_err wasm_error_set(wasm_error *err, wasm_err code, uint32_t offset,
                        const char *fmt, ...)
{
    if (!err)
        return code;
    wasm_error_clear(err);
    err->code = code;
    err->offset = offset;
    size_t n = 0;
    if (offset != UINT32_MAX)
        n = (size_t)snprintf(err->message, sizeof err->message,
                             "at byte 0x%x: ", offset);
    if (n < sizeof err->message) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message + n, sizeof err->message - n, fmt, ap);
        va_end(ap);
    }
    return code;
}
