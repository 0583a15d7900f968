/*
 * types.h - process-wide canonical ids for function types (internal).
 *
 * call_indirect compares a callee's type with the expected one across
 * modules; interning turns that into one integer compare.
 */
#ifndef WATER_WASM_TYPES_H
#define WATER_WASM_TYPES_H

#include "water/wasm.h"

#include <stdint.h>

/* Returns the canonical id of the function type, or UINT32_MAX when out of
 * host memory. Thread-safe; ids are never reused. */
uint32_t wasm_type_intern(const wasm_valtype *params, uint32_t nparams,
                          const wasm_valtype *results, uint32_t nresults);

/* Letters of signature strings
 * ("i", "I", "f", "F", "r", "e"); returns 0 for an unknown letter. */
wasm_valtype wasm_valtype_from_letter(char c);
char wasm_valtype_letter(wasm_valtype t);
const char *wasm_valtype_name(wasm_valtype t);

#endif
