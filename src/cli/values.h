/*
 * values.h - wasm values on the command line.
 */
#ifndef WATER_CLI_VALUES_H
#define WATER_CLI_VALUES_H

#include "water/wasm.h"

#include <stdbool.h>
#include <stddef.h>

/* Parses s as a value of type t (integers in decimal or 0x hex, negative
 * allowed; floats as strtod reads them, nan and inf included). */
bool value_parse(const char *s, wasm_valtype t, wasm_val *out);
/* Formats v: integers as signed decimals, floats as the shortest decimal
 * that reads back to the same value. */
void value_format(char *buf, size_t n, const wasm_val *v);

#endif
