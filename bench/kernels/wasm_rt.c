/*
 * wasm_rt.c - the three libc functions that clang may call on its own when
 * compiling kernels for wasm32 without a libc (struct copies, zeroing).
 * Built with -fno-builtin so these loops do not turn into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t len);
void *memcpy(void *restrict dst, const void *restrict src, size_t len);
void *memmove(void *dst, const void *src, size_t len);

void *memset(void *dst, int c, size_t len)
{
    uint8_t *d = dst;
    while (len--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t len)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (len--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t len)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (len--)
            *d++ = *s++;
    } else {
        while (len--)
            d[len] = s[len];
    }
    return dst;
}
