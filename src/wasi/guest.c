/*
 * wasi/guest.c - the layer's only door into linear memory.
 *
 * Everything a guest passes as a pointer is checked here through
 * wasm_memory_ptr(), which refuses any range not wholly inside memory 0
 * (with 64-bit, overflow-free arithmetic). Pointers returned stay valid for
 * the rest of the host call: WASI functions never grow memory.
 */
#include "wasi/internal.h"

uint8_t *wasi_mem(wasi_call *c, uint32_t ptr, uint64_t len)
{
    return wasm_memory_ptr(c->inst, ptr, len);
}

int wasi_put32(wasi_call *c, uint32_t ptr, uint32_t v)
{
    uint8_t *p = wasi_mem(c, ptr, 4);
    if (!p)
        return WASI_EFAULT;
    wasi_st32(p, v);
    return 0;
}

int wasi_put64(wasi_call *c, uint32_t ptr, uint64_t v)
{
    uint8_t *p = wasi_mem(c, ptr, 8);
    if (!p)
        return WASI_EFAULT;
    wasi_st64(p, v);
    return 0;
}

int wasi_iovecs(wasi_call *c, uint32_t ptr, uint32_t n, struct iovec *iov,
                int *niov, size_t *total)
{
    *niov = 0;
    *total = 0;
    if (n > WASI_IOV_MAX)
        return WASI_EINVAL;
    if (n == 0)
        return 0;
    const uint8_t *arr = wasi_mem(c, ptr, (uint64_t)n * WASI_IOVEC_SIZE);
    if (!arr)
        return WASI_EFAULT;
    size_t sum = 0;
    int k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wasi_ld32(arr + i * WASI_IOVEC_SIZE);
        uint32_t len = wasi_ld32(arr + i * WASI_IOVEC_SIZE + 4);
        if (len == 0)
            continue;
        uint8_t *p = wasi_mem(c, buf, len);
        if (!p)
            return WASI_EFAULT;
        if (sum >= WASI_RW_MAX)
            continue; /* keep checking bounds, stop adding bytes */
        if (len > WASI_RW_MAX - sum)
            len = (uint32_t)(WASI_RW_MAX - sum);
        iov[k].iov_base = p;
        iov[k].iov_len = len;
        k++;
        sum += len;
    }
    *niov = k;
    *total = sum;
    return 0;
}

int wasi_guest_path(wasi_call *c, uint32_t ptr, uint32_t len, char *out)
{
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    out[0] = '\0';
    if (len == 0)
        return 0;
    const uint8_t *p = wasi_mem(c, ptr, len);
    if (!p)
        return WASI_EFAULT;
    if (memchr(p, '\0', len))
        return WASI_EILSEQ;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}
