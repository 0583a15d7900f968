/*
 * reverse.c - reverses the byte order of every chunk, in both directions,
 * like the reference TinyGo "reverse" example: each read is reversed as a
 * whole. Chunk boundaries are whatever the reads return, so two reverse
 * modules facing each other restore the original bytes only when the reads
 * on both ends line up (typical for small interactive writes over loopback);
 * it is a demonstration transport, not a reliable one.
 */
#include "watm.h"

static ssize_t reverse_chunk(struct watm_stream *s, const uint8_t *in, size_t len,
                             uint8_t *out, size_t out_cap)
{
    (void)s;
    (void)out_cap; /* >= len: the default bound is {1, 0} */
    for (size_t i = 0; i < len; i++)
        out[i] = in[len - 1 - i];
    return (ssize_t)len; /* 0 for the end-of-stream call */
}

const struct watm_transport reverse_transport = {
    .name = "reverse",
    .wrap = reverse_chunk,
    .unwrap = reverse_chunk,
};

WATM_REGISTER(reverse_transport);
WATM_OFFER_FIXED_DIALER();
