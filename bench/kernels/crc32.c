/*
 * crc32.c - CRC-32 (the reflected IEEE 802.3 polynomial 0xEDB88320) with a
 * 256-entry table, one byte per step: byte loads, table lookups, shifts, xor.
 *
 * The message is n passes over a 1 MiB pseudo-random buffer; before each pass
 * one byte of the buffer changes. The checksum is the final CRC.
 */
#include "bench_kernel.h"

#define CRC_BYTES (1u << 20)

static uint8_t crc_data[CRC_BYTES];
static uint32_t crc_table[256];

BENCH_KERNEL(crc32, i32)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
    uint32_t seed = 0xBADC0DEu;
    for (uint32_t i = 0; i < CRC_BYTES; i += 4) {
        uint32_t r = bench_rand(&seed);
        crc_data[i] = (uint8_t)r;
        crc_data[i + 1] = (uint8_t)(r >> 8);
        crc_data[i + 2] = (uint8_t)(r >> 16);
        crc_data[i + 3] = (uint8_t)(r >> 24);
    }

    uint32_t crc = 0xFFFFFFFFu;
    for (int32_t pass = 0; pass < n; pass++) {
        crc_data[((uint32_t)pass * 7919u) % CRC_BYTES] ^= (uint8_t)(pass + 1);
        for (uint32_t i = 0; i < CRC_BYTES; i++)
            crc = crc_table[(crc ^ crc_data[i]) & 0xFF] ^ (crc >> 8);
    }
    return (int32_t)~crc;
}
