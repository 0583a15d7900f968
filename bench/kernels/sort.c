/*
 * sort.c - quicksort of pseudo-random i32: compares, swaps, recursion, loads
 * and stores at data-dependent addresses.
 *
 * Each of the n iterations fills 100000 values from a new seed, sorts them
 * (median-of-three quicksort, insertion sort below 16 elements, recursion on
 * the smaller side), then folds the sorted array into the checksum.
 */
#include "bench_kernel.h"

#define SORT_LEN 100000

static int32_t sort_buf[SORT_LEN];

static void insertion_sort(int32_t *a, int32_t len)
{
    for (int32_t i = 1; i < len; i++) {
        int32_t v = a[i];
        int32_t j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static inline void swap_i32(int32_t *x, int32_t *y)
{
    int32_t t = *x;
    *x = *y;
    *y = t;
}

static void quick_sort(int32_t *a, int32_t len)
{
    while (len > 16) {
        int32_t mid = len / 2, last = len - 1;
        /* Median of three into a[mid]. */
        if (a[mid] < a[0])
            swap_i32(&a[mid], &a[0]);
        if (a[last] < a[0])
            swap_i32(&a[last], &a[0]);
        if (a[last] < a[mid])
            swap_i32(&a[last], &a[mid]);
        int32_t pivot = a[mid];
        int32_t i = 0, j = last;
        /* Hoare partition. */
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_i32(&a[i], &a[j]);
            i++;
            j--;
        }
        int32_t left = j + 1; /* a[0..left) <= pivot <= a[left..len) */
        if (left < len - left) {
            quick_sort(a, left);
            a += left;
            len -= left;
        } else {
            quick_sort(a + left, len - left);
            len = left;
        }
    }
    insertion_sort(a, len);
}

BENCH_KERNEL(sort, i32)
{
    uint32_t sum = 0;
    for (int32_t it = 0; it < n; it++) {
        uint32_t seed = 0x12345678u + (uint32_t)it * 0x9E3779B9u;
        if (seed == 0)
            seed = 1;
        for (int32_t i = 0; i < SORT_LEN; i++)
            sort_buf[i] = (int32_t)bench_rand(&seed);
        quick_sort(sort_buf, SORT_LEN);
        for (int32_t i = 0; i < SORT_LEN; i++)
            sum = bench_mix(sum, (uint32_t)sort_buf[i]);
    }
    return (int32_t)sum;
}
