/*
 * list.c - linked list work in the manner of CoreMark's list part (written
 * from scratch): pointer chasing, compare-and-branch, small struct loads.
 *
 * Each of the n iterations links 4096 nodes with pseudo-random keys, looks up
 * 16 keys by walking, reverses the list, merge-sorts it by (key, idx), folds
 * the order into the checksum, merge-sorts it back by idx and checks it.
 */
#include "bench_kernel.h"

#define LIST_LEN 4096

typedef struct node {
    struct node *next;
    int32_t key;
    int32_t idx;
} node;

static node list_pool[LIST_LEN];

static node *list_build(uint32_t *seed)
{
    for (int32_t i = 0; i < LIST_LEN; i++) {
        list_pool[i].key = (int32_t)(bench_rand(seed) & 0xFFFF);
        list_pool[i].idx = i;
        list_pool[i].next = i + 1 < LIST_LEN ? &list_pool[i + 1] : 0;
    }
    return &list_pool[0];
}

/* Position of the first node with `key`, or -1. */
static int32_t list_find(const node *l, int32_t key)
{
    for (int32_t pos = 0; l; l = l->next, pos++)
        if (l->key == key)
            return pos;
    return -1;
}

static node *list_reverse(node *l)
{
    node *out = 0;
    while (l) {
        node *next = l->next;
        l->next = out;
        out = l;
        l = next;
    }
    return out;
}

static inline int before(const node *a, const node *b, int by_key)
{
    if (by_key && a->key != b->key)
        return a->key < b->key;
    return a->idx < b->idx;
}

static node *list_merge(node *a, node *b, int by_key)
{
    node head;
    node *tail = &head;
    while (a && b) {
        if (before(b, a, by_key)) {
            tail->next = b;
            b = b->next;
        } else {
            tail->next = a;
            a = a->next;
        }
        tail = tail->next;
    }
    tail->next = a ? a : b;
    return head.next;
}

/* Sorts the first `len` nodes of `l` (which has at least len nodes) and cuts
 * them off: returns the sorted list, *rest gets the remainder. */
static node *list_sort(node *l, int32_t len, int by_key, node **rest)
{
    if (len == 1) {
        *rest = l->next;
        l->next = 0;
        return l;
    }
    node *second;
    node *a = list_sort(l, len / 2, by_key, &second);
    node *b = list_sort(second, len - len / 2, by_key, rest);
    return list_merge(a, b, by_key);
}

BENCH_KERNEL(list, i32)
{
    uint32_t sum = 0;
    for (int32_t it = 0; it < n; it++) {
        uint32_t seed = 0x2545F491u ^ ((uint32_t)it * 0x85EBCA6Bu);
        if (seed == 0)
            seed = 1;
        node *l = list_build(&seed);
        for (int32_t q = 0; q < 16; q++)
            sum = bench_mix(sum, (uint32_t)list_find(l, (int32_t)(bench_rand(&seed) & 0xFFFF)));
        l = list_reverse(l);
        node *rest;
        l = list_sort(l, LIST_LEN, 1, &rest);
        for (const node *p = l; p; p = p->next)
            sum = bench_mix(sum, (uint32_t)p->idx);
        l = list_sort(l, LIST_LEN, 0, &rest);
        int32_t expect = 0;
        for (const node *p = l; p; p = p->next, expect++)
            if (p->idx != expect)
                sum = bench_mix(sum, 0xDEADu); /* never, if the sort is right */
        sum = bench_mix(sum, (uint32_t)expect);
    }
    return (int32_t)sum;
}
