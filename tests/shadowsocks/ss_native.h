/*
 * ss_native.h - the native stand-ins of ss_native.c (tests only).
 */
#ifndef SS_NATIVE_H
#define SS_NATIVE_H

#include "ss.h"

/* What ss_dial may connect to: "host:port[,host:port...]", exact
 * matches (NULL: nothing), and the address it was last asked for. */
extern const char *ss_native_allow;
extern char ss_native_last_dial[SS_ADDR_TEXT_MAX];

/* Blocking TCP connect to "host:port" / "[v6]:port"; fd or -errno. */
int ss_native_connect(const char *address);

#endif
