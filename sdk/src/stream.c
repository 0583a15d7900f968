/*
 * stream.c - running a transform under its contract (portable).
 *
 * The one place that calls a transport's wrap/unwrap: checks the output room
 * against the declared bound before the call and the result after it, so a
 * transport bug becomes a clean connection error, never an overrun.
 */
#include "internal.h"

#include <string.h>

size_t watm_bound_out(struct watm_bound b, size_t in_len)
{
    size_t mul = b.mul ? b.mul : 1;
    if (in_len != 0 && mul > SIZE_MAX / in_len)
        return SIZE_MAX;
    size_t n = in_len * mul;
    if (b.add > SIZE_MAX - n)
        return SIZE_MAX;
    return n + b.add;
}

ssize_t watm_transform_run(const struct watm_transport *t, struct watm_stream *s,
                           const uint8_t *in, size_t in_len, uint8_t *out,
                           size_t out_cap)
{
    if (in == NULL && in_len != 0)
        return -WATM_EINVAL;
    bool wrap = s->dir == WATM_WRAP;
    watm_transform_fn fn = wrap ? t->wrap : t->unwrap;
    struct watm_bound b = wrap ? t->wrap_bound : t->unwrap_bound;

    if (out_cap < watm_bound_out(b, in_len))
        return -WATM_ENOBUFS;

    ssize_t r;
    if (fn == NULL) {
        /* Identity; the worker reads straight into out and passes in == out. */
        if (in_len && in != out)
            memmove(out, in, in_len);
        r = (ssize_t)in_len;
    } else {
        r = fn(s, in, in_len, out, out_cap);
        if (r < 0)
            return r;
        if ((size_t)r > out_cap) {
            watm_log_num(wrap ? "wrap returned more than out_cap"
                              : "unwrap returned more than out_cap",
                         (long)r);
            return -WATM_EOVERFLOW;
        }
    }
    s->in_pos += in_len;
    s->out_pos += (uint64_t)r;
    return r;
}
