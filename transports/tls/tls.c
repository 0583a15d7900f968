/*
 * tls.c - TLS on the wire, done by the host: the module is a TLS client in
 * the dialer, fixed dialer and relay roles (application plaintext in, TLS
 * records to the network) and a TLS server in the listener role (records
 * from the network, plaintext to the application).
 *
 * The host runs OpenSSL through the water_ext_v1 extension with the TLS
 * settings of ITS configuration (water --tls-ca, --tls-sni, --tls-alpn,
 * --tls-insecure for the client; --tls-cert, --tls-key for the server);
 * the module only moves records (watm_ext.h's TLS helper). It needs no
 * config of its own, except "dial_address" for the fixed dialer role.
 *
 * Runs only on hosts that offer water_ext_v1 (WATER-in-C).
 */
#include "watm.h"
#include "watm_ext.h"

const struct watm_transport tls_transport = {
    .name = "tls",
    .handshake = watm_tls_session_handshake,
    .wrap = watm_tls_wrap,
    .unwrap = watm_tls_unwrap,
    .wrap_bound = WATM_TLS_WRAP_BOUND,
    .unwrap_bound = WATM_TLS_UNWRAP_BOUND,
};

WATM_REGISTER(tls_transport);
WATM_OFFER_FIXED_DIALER();
