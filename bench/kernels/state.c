/*
 * state.c - a number lexer as an explicit state machine, in the manner of
 * CoreMark's state part (written from scratch): byte loads, switch dispatch
 * (br_table in wasm), short unpredictable branches.
 *
 * The text is 8 KiB of separated tokens: integers, decimals, scientific
 * numbers, hex numbers and junk. Each of the n iterations lexes the whole
 * text, folding every state visited and every token class into the
 * checksum, then corrupts a few bytes so that the next pass differs.
 */
#include "bench_kernel.h"

#define TEXT_LEN 8192

static uint8_t text[TEXT_LEN];

enum cls { C_DIGIT, C_HEXLET, C_E, C_X, C_DOT, C_SIGN, C_SEP, C_OTHER };

enum st {
    S_START, S_SIGN, S_ZERO, S_INT, S_DOT, S_FRAC, S_EXP, S_EXPSIGN,
    S_EXPINT, S_HEXX, S_HEX, S_BAD, S_COUNT
};

static enum cls classify(uint8_t c)
{
    switch (c) {
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return C_DIGIT;
    case 'a': case 'b': case 'c': case 'd': case 'f':
    case 'A': case 'B': case 'C': case 'D': case 'F':
        return C_HEXLET;
    case 'e': case 'E':
        return C_E;
    case 'x': case 'X':
        return C_X;
    case '.':
        return C_DOT;
    case '+': case '-':
        return C_SIGN;
    case ',': case ' ': case '\n': case ';':
        return C_SEP;
    default:
        return C_OTHER;
    }
}

static enum st step(enum st s, enum cls c)
{
    switch (s) {
    case S_START:
        switch (c) {
        case C_SIGN: return S_SIGN;
        case C_DIGIT: return S_INT;
        case C_DOT: return S_DOT;
        default: return S_BAD;
        }
    case S_SIGN:
        switch (c) {
        case C_DIGIT: return S_INT;
        case C_DOT: return S_DOT;
        default: return S_BAD;
        }
    case S_ZERO:
        switch (c) {
        case C_X: return S_HEXX;
        case C_DIGIT: return S_INT;
        case C_DOT: return S_FRAC;
        case C_E: return S_EXP;
        default: return S_BAD;
        }
    case S_INT:
        switch (c) {
        case C_DIGIT: return S_INT;
        case C_DOT: return S_FRAC;
        case C_E: return S_EXP;
        default: return S_BAD;
        }
    case S_DOT:
        return c == C_DIGIT ? S_FRAC : S_BAD;
    case S_FRAC:
        switch (c) {
        case C_DIGIT: return S_FRAC;
        case C_E: return S_EXP;
        default: return S_BAD;
        }
    case S_EXP:
        switch (c) {
        case C_SIGN: return S_EXPSIGN;
        case C_DIGIT: return S_EXPINT;
        default: return S_BAD;
        }
    case S_EXPSIGN:
    case S_EXPINT:
        return c == C_DIGIT ? S_EXPINT : S_BAD;
    case S_HEXX:
    case S_HEX:
        switch (c) {
        case C_DIGIT: case C_HEXLET: case C_E: return S_HEX;
        default: return S_BAD;
        }
    default:
        return S_BAD;
    }
}

static uint32_t put_digits(uint32_t pos, uint32_t count, uint32_t *seed)
{
    for (uint32_t i = 0; i < count && pos < TEXT_LEN; i++)
        text[pos++] = (uint8_t)('0' + bench_rand(seed) % 10);
    return pos;
}

static void put(uint32_t *pos, uint8_t c)
{
    if (*pos < TEXT_LEN)
        text[(*pos)++] = c;
}

static void make_text(uint32_t *seed)
{
    static const uint8_t junk[] = "abcxyz.+-eE0x19Q_";
    static const uint8_t hex[] = "0123456789abcdefABCDEF";
    static const uint8_t seps[] = ", ;\n";
    uint32_t pos = 0;
    while (pos < TEXT_LEN) {
        uint32_t r = bench_rand(seed);
        switch (r % 6) {
        case 0: /* integer, maybe signed */
        case 1:
            if (r & 0x100)
                put(&pos, (r & 0x200) ? '-' : '+');
            pos = put_digits(pos, 1 + (r >> 12) % 6, seed);
            break;
        case 2: /* decimal */
            pos = put_digits(pos, (r >> 12) % 4, seed);
            put(&pos, '.');
            pos = put_digits(pos, 1 + (r >> 16) % 5, seed);
            break;
        case 3: /* scientific */
            if (r & 0x100)
                put(&pos, '-');
            pos = put_digits(pos, 1, seed);
            put(&pos, '.');
            pos = put_digits(pos, 1 + (r >> 12) % 4, seed);
            put(&pos, (r & 0x400) ? 'e' : 'E');
            if (r & 0x800)
                put(&pos, (r & 0x1000) ? '-' : '+');
            pos = put_digits(pos, 1 + (r >> 20) % 3, seed);
            break;
        case 4: /* hex */
            put(&pos, '0');
            put(&pos, 'x');
            for (uint32_t i = 0; i < 1 + (r >> 12) % 8; i++)
                put(&pos, hex[bench_rand(seed) % (sizeof hex - 1)]);
            break;
        default: /* junk */
            for (uint32_t i = 0; i < 1 + (r >> 12) % 5; i++)
                put(&pos, junk[bench_rand(seed) % (sizeof junk - 1)]);
            break;
        }
        put(&pos, seps[(r >> 24) % (sizeof seps - 1)]);
    }
}

BENCH_KERNEL(state, i32)
{
    uint32_t seed = 0x5EED5EEDu;
    make_text(&seed);
    uint32_t sum = 0;
    uint32_t counts[S_COUNT];
    for (int32_t it = 0; it < n; it++) {
        for (int s = 0; s < S_COUNT; s++)
            counts[s] = 0;
        uint32_t trace = 0;
        enum st s = S_START;
        for (uint32_t i = 0; i < TEXT_LEN; i++) {
            enum cls c = classify(text[i]);
            if (c == C_SEP) {
                if (s != S_START)
                    counts[s]++;
                s = S_START;
            } else if (s == S_START && c == C_DIGIT && text[i] == '0') {
                s = S_ZERO;
            } else {
                s = step(s, c);
            }
            trace = trace * 31u + (uint32_t)s;
        }
        if (s != S_START)
            counts[s]++;
        sum = bench_mix(sum, trace);
        for (int k = 0; k < S_COUNT; k++)
            sum = bench_mix(sum, counts[k]);
        /* Corrupt 8 bytes for the next pass. */
        for (uint32_t k = 0; k < 8; k++) {
            uint32_t p = ((uint32_t)it * 131u + k * 797u) % TEXT_LEN;
            text[p] = (uint8_t)"0123456789.e-+x,Z"[((uint32_t)it + k) % 17];
        }
    }
    return (int32_t)sum;
}
