/*
 * plain.c - the identity transport: bytes cross unchanged in both
 * directions. Useful as a baseline for throughput and as the smallest
 * example of the SDK. Offers every role, including the fixed dialer (config
 * {"dial_address":"host:port"}).
 */
#include "watm.h"

const struct watm_transport plain_transport = {
    .name = "plain",
    /* No hooks: NULL transforms copy, no config besides dial_address. */
};

WATM_REGISTER(plain_transport);
WATM_OFFER_FIXED_DIALER();
