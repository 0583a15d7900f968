#!/usr/bin/env python3
"""gen.py - random but deterministic WebAssembly programs for the
differential test (diff_test.py runs them in water and in V8).

    gen.py --seed S --count N --out DIR     writes DIR/m0000.wat ...

Module i of seed S is a function of (S, i) only, so one module can be
regenerated alone (--first I --count 1). Python 3 standard library only.

Each module has one memory page, three mutable globals, a table of all its
functions, a few functions with i32/i64/f64 params, locals and results,
and an export `run` () -> i64 that calls them with boundary arguments and
returns a checksum of their results, the globals and the whole memory.

Invariants that make every program deterministic and trap-free in any
correct engine (they are what a change here must keep):
  - Memory: [0, INT_END) is the integer region, [INT_END, 64 KiB) the f64
    region. Integer loads and stores only reach the integer region: every
    address expression carries an upper bound (addr() below) checked
    against the access's offset and width. f64 stores only reach the f64
    region (offset=INT_END, address <= F64_SPAN - 8), so integer loads
    never see NaN bits; f64 loads may read anywhere.
  - NaN payloads and signs are not specified; a float reaches an integer
    only through trunc_sat, a compare, or i64.reinterpret_f64 of
    (select x 0 (f64.eq x x)) (NaN -> 0), and the memory hash reads the f64
    region the same way. No copysign from a value that may be NaN.
  - Divisors: div_s/rem_s by (d & -3) | 1 (never 0 or -1; rem_s also
    takes d | 1, which may be -1: defined, 0), div_u/rem_u by d | 1.
  - Loops count a reserved counter local from a constant <= 8 down to 0 (or
    up to a constant); nothing else writes a counter; a branch back to a
    loop's start is conditional on its counter. Calls go only to functions
    defined earlier (no recursion); call_indirect uses the callee's type.
  - Cost: every node's executions are estimated (loops multiply, calls add
    the callee's estimate) and kept under a budget per function.
  - Pointer locals hold values <= 0xFFF (base) or <= 0x1FFE (derived):
    they are only ever set to a masked value or base + k / base + base.
"""

import argparse
import os
import random
import struct
import sys

INT_END = 0xE000           # integer region [0, INT_END)
F64_SPAN = 0x10000 - INT_END

I32 = 'i32'
I64 = 'i64'
F64 = 'f64'
NUM = (I32, I64, F64)

I32_EDGE = [0, 1, -1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0x7F, 0x80, 0xFF,
            0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, -0x80000000,
            -0x7FFFFFFF, -2, -0x80, -0x8000, 0x55555555, -0x55555556]
I64_EDGE = I32_EDGE + [0xFFFFFFFF, 0x100000000, 0x80000000, -0x80000001,
                       0x7FFFFFFFFFFFFFFF, -0x8000000000000000,
                       -0x7FFFFFFFFFFFFFFF, 0x123456789ABCDEF0, -0x100000000,
                       0x5555555555555555, 64, 65, 127, 128]
F64_EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.0, 100.25,
            2147483647.0, 2147483648.0, -2147483648.0, -2147483649.0,
            4294967295.0, 4294967296.0, 9007199254740992.0,
            9223372036854775807.0, -9223372036854775808.0,
            18446744073709551616.0, 1e300, -1e300, 5e-324, 2.2250738585072014e-308,
            float('inf'), float('-inf'), float('nan'), 0.1, -7.75, 1e-3]

PTR_MASKS = [0xFFF, 0xFF8, 0x7FC, 0x3FF, 0xFF, 0x3F, 0xFFC, 0x1F0]
PTR_MAX = 0xFFF
DPTR_MAX = 0x1FFE
AND_MASKS = [INT_END - 0x10, 0x1FFF, 0xFFF, 0x3FF, 0xFF, 0x3F, 0xFF8, 0x7FC,
             0x1FF8, 0xF0, 0x7]

I_UN = ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s']
I_BIN = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u',
         'rotl', 'rotr']
I_DIV = ['div_s', 'div_u', 'rem_s', 'rem_u']
I_CMP = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u']
F_UN = ['abs', 'neg', 'sqrt', 'floor', 'ceil', 'trunc', 'nearest']
F_BIN = ['add', 'sub', 'mul', 'div', 'min', 'max']
F_CMP = ['eq', 'ne', 'lt', 'gt', 'le', 'ge']
SAT = ['i32.trunc_sat_f64_s', 'i32.trunc_sat_f64_u',
       'i64.trunc_sat_f64_s', 'i64.trunc_sat_f64_u']
# (op, width in bytes) by result type
LOADS = {I32: [('i32.load', 4), ('i32.load8_s', 1), ('i32.load8_u', 1),
               ('i32.load16_s', 2), ('i32.load16_u', 2)],
         I64: [('i64.load', 8), ('i64.load8_s', 1), ('i64.load8_u', 1),
               ('i64.load16_s', 2), ('i64.load16_u', 2), ('i64.load32_s', 4),
               ('i64.load32_u', 4)]}
STORES = {I32: [('i32.store', 4), ('i32.store8', 1), ('i32.store16', 2)],
          I64: [('i64.store', 8), ('i64.store8', 1), ('i64.store16', 2),
                ('i64.store32', 4)]}

FUNC_BUDGET = 20000        # estimated executed nodes per function
MAX_TRIPS = 8


def wat_f64(x):
    if x != x:
        return 'nan'
    if x in (float('inf'), float('-inf')):
        return 'inf' if x > 0 else '-inf'
    return x.hex()


def i32s(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def i64s(v):
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >> 63 else v


def result_list(result):
    """A function's result types as a list."""
    if result is None:
        return []
    return list(result) if isinstance(result, tuple) else [result]


def result_text(result):
    return ''.join(' (result %s)' % t for t in result_list(result))


class Func:
    def __init__(self, index, params, result):
        self.index = index
        self.params = params        # [type]
        self.result = result        # type, None, or a tuple of types (multi-value)
        self.cost = 0               # estimated executed nodes per call
        self.typeidx = None


class FuncGen:
    """Generates one function body; knows its locals, labels and budget."""

    def __init__(self, mod, fn):
        self.m = mod
        self.r = mod.r
        self.fn = fn
        self.locals = []            # (name, type) declared locals
        self.vals = {t: [] for t in NUM}   # writable value locals (+params)
        self.ptrs = []              # base pointer locals (<= PTR_MAX)
        self.dptrs = []             # derived pointer locals (<= DPTR_MAX)
        self.fptrs = []             # f64 base pointers: multiples of 8, <= 0xFF8
        self.dfptrs = []            # f64 derived: multiples of 8, <= 0x1FF0
        self.counters = []          # all counter locals (read-only leaves)
        self.free_counters = []     # counters not owned by an enclosing loop
        self.labels = []            # (name, type or None, kind, counter)
        self.nlabel = 0
        self.mult = 1               # product of enclosing loops' trips
        self.cost = 0
        for i, t in enumerate(fn.params):
            self.vals[t].append('$p%d' % i)
        for t in NUM:
            for _ in range(self.r.randint(1, 3)):
                self.vals[t].append(self.new_local(t, 'v'))
        for _ in range(self.r.randint(1, 3)):
            self.ptrs.append(self.new_local(I32, 'a'))
        for _ in range(self.r.randint(0, 2)):
            self.dptrs.append(self.new_local(I32, 'd'))
        for _ in range(self.r.randint(1, 2)):
            self.fptrs.append(self.new_local(I32, 'f'))
        self.dfptrs.append(self.new_local(I32, 'e'))

    # ---- helpers ------------------------------------------------------
    def new_local(self, t, kind):
        name = '$%s%d' % (kind, len(self.locals))
        self.locals.append((name, t))
        return name

    def bptr(self):
        """A base pointer local to read (<= PTR_MAX)."""
        return self.r.choice(self.ptrs + self.fptrs)

    def counter(self):
        if self.free_counters:
            return self.free_counters.pop()
        c = self.new_local(I32, 'c')
        self.counters.append(c)
        return c

    def label(self, prefix):
        self.nlabel += 1
        return '$%s%d' % (prefix, self.nlabel)

    def tick(self, n=1):
        self.cost += n * self.mult

    def budget_left(self):
        return FUNC_BUDGET - self.cost

    def chance(self, p):
        return self.r.random() < p

    # ---- constants ----------------------------------------------------
    def const(self, t):
        r = self.r
        self.tick()
        if t == I32:
            v = r.choice(I32_EDGE) if r.random() < 0.6 else (
                r.randint(-300, 300) if r.random() < 0.5 else r.getrandbits(32))
            return '(i32.const %d)' % i32s(v)
        if t == I64:
            v = r.choice(I64_EDGE) if r.random() < 0.6 else (
                r.randint(-300, 300) if r.random() < 0.5 else r.getrandbits(64))
            return '(i64.const %d)' % i64s(v)
        if r.random() < 0.6:
            v = r.choice(F64_EDGE)
        elif r.random() < 0.5:
            v = r.randint(-1000, 1000) / 8.0
        else:
            v = struct.unpack('<d', struct.pack('<Q', r.getrandbits(64)))[0]
        return '(f64.const %s)' % wat_f64(v)

    def small_const(self, t, lo=0, hi=64):
        self.tick()
        return '(%s.const %d)' % (t, self.r.randint(lo, hi))

    # ---- addresses ------------------------------------------------------
    def addr(self, limit, depth):
        """An i32 address expression whose value is <= limit (unsigned)."""
        r = self.r
        P, D = PTR_MAX, DPTR_MAX
        forms = [('const', 0x400), ('and', 0)] * 2   # (form, its bound)
        forms += [('ptr', P)] * 3 + [('ptr_k', P + 0x100)] * 2 + [
            ('shl_k', 8 * P + 0x40), ('ptr_shl', 9 * P), ('or_sub', P),
            ('ptr_ptr', 2 * P), ('tee', P + 0xFF)]
        forms += [('dptr', D), ('dptr_k', D + 0x100)]
        if self.counters:
            forms += [('ctr', MAX_TRIPS * 8 + 0x100)]
        forms = [f for f, b in forms if b <= limit]
        f = r.choice(forms)
        self.tick()
        if f == 'and':
            masks = [m for m in AND_MASKS if m <= limit]
            return '(i32.and %s (i32.const %d))' % (self.expr(I32, depth - 1),
                                                    r.choice(masks))
        if f == 'const':
            return '(i32.const %d)' % r.randint(0, 0x400)
        if f == 'ptr':
            return '(local.get %s)' % self.bptr()
        if f == 'dptr':
            return '(local.get %s)' % r.choice(self.dptrs + self.dfptrs)
        if f == 'ptr_k':
            return '(i32.add (local.get %s) (i32.const %d))' % (
                self.bptr(), r.randint(0, 0x100))
        if f == 'dptr_k':
            return '(i32.add (local.get %s) (i32.const %d))' % (
                r.choice(self.dptrs + self.dfptrs), r.randint(0, 0x100))
        if f == 'ptr_ptr':
            return '(i32.add (local.get %s) (local.get %s))' % (
                self.bptr(), self.bptr())
        if f == 'ctr':
            return '(i32.add (i32.shl (local.get %s) (i32.const %d)) (i32.const %d))' % (
                r.choice(self.counters), r.randint(0, 3), r.randint(0, 0x100))
        if f == 'shl_k':
            return '(i32.add (i32.shl (local.get %s) (i32.const %d)) (i32.const %d))' % (
                self.bptr(), r.randint(0, 3), r.randint(0, 0x40))
        if f == 'ptr_shl':
            return '(i32.add (local.get %s) (i32.shl (local.get %s) (i32.const %d)))' % (
                self.bptr(), self.bptr(), r.randint(0, 3))
        if f == 'or_sub':   # (p | 0x40) - k, k <= 0x40: still in [0, PTR_MAX]
            return '(i32.add (i32.or (local.get %s) (i32.const 64)) (i32.const %d))' % (
                self.bptr(), -r.randint(0, 0x40))
        if f == 'tee':
            if not self.dptrs:
                self.dptrs.append(self.new_local(I32, 'd'))
            return '(local.tee %s (i32.add (local.get %s) (i32.const %d)))' % (
                r.choice(self.dptrs), self.bptr(), r.randint(0, 0xFF))
        raise AssertionError(f)

    def int_access(self, width, depth):
        off = self.r.choice([0, 0, 0, 1, 2, 4, 8, self.r.randint(0, 0x200)])
        a = self.addr(INT_END - width - off, depth)
        return ('offset=%d ' % off if off else '') + a

    def faddr(self, limit, depth):
        """An address in the f64 region, relative to INT_END: a multiple of
        8 and <= limit. f64 values there are stored and loaded only whole,
        so NaN bits (which engines may differ in) never leak into an
        integer: the memory hash reads the region as f64 with NaN -> 1."""
        r = self.r
        forms = [('const', 0x100), ('and', 0), ('fp', 0xFF8), ('fp_k', 0xFF8 + 0x100),
                 ('dfp', 0x1FF0), ('fp_fp', 0x1FF0), ('shl_k', 0x1FF0 + 0x40),
                 ('ctr', MAX_TRIPS * 8 + 0x100), ('tee', 0xFF8 + 0xF8)]
        if not self.counters:
            forms.pop(-2)
        f = r.choice([f for f, b in forms if b <= limit])
        self.tick()
        k8 = 8 * r.randint(0, 0x20)
        fp = r.choice(self.fptrs)
        if f == 'const':
            return '(i32.const %d)' % k8
        if f == 'and':
            return '(i32.and %s (i32.const %d))' % (
                self.expr(I32, depth - 1),
                r.choice([m for m in (0x1FF8, 0xFF8, 0x1F8, 0x38, 0x1F80) if m <= limit]))
        if f == 'fp':
            return '(local.get %s)' % fp
        if f == 'fp_k':
            return '(i32.add (local.get %s) (i32.const %d))' % (fp, k8)
        if f == 'dfp':
            return '(local.get %s)' % r.choice(self.dfptrs)
        if f == 'fp_fp':
            return '(i32.add (local.get %s) (local.get %s))' % (fp, r.choice(self.fptrs))
        if f == 'shl_k':
            return '(i32.add (i32.shl (local.get %s) (i32.const 1)) (i32.const %d))' % (
                fp, 8 * r.randint(0, 8))
        if f == 'ctr':
            return '(i32.add (i32.shl (local.get %s) (i32.const 3)) (i32.const %d))' % (
                r.choice(self.counters), k8)
        if f == 'tee':
            return '(local.tee %s (i32.add (local.get %s) (i32.const %d)))' % (
                r.choice(self.dfptrs), fp, 8 * r.randint(0, 0x1F))
        raise AssertionError(f)

    def f64_access(self, depth):
        """A whole f64 in the f64 region (see faddr)."""
        k = self.r.choice([0, 0, 8, 16])
        return 'offset=%d %s' % (INT_END + k, self.faddr(F64_SPAN - 8 - k, depth))

    # ---- expressions ----------------------------------------------------
    def leaf(self, t):
        r = self.r
        self.tick()
        x = r.random()
        if x < 0.35:
            return self.const(t)
        if x < 0.88:
            pool = list(self.vals[t])
            if t == I32:
                pool += self.ptrs + self.fptrs + self.dptrs + self.dfptrs + self.counters
            return '(local.get %s)' % r.choice(pool)
        if x < 0.96 or t != I32:
            return '(global.get $g%s)' % t
        return '(memory.size)'

    def cond(self, depth):
        """An i32 used as a condition: mostly a compare, often with an
        immediate (the compare+branch fusions)."""
        r = self.r
        x = r.random()
        self.tick()
        if x < 0.35:
            t = r.choice([I32, I32, I64])
            return '(%s.%s %s %s)' % (t, r.choice(I_CMP), self.expr(t, depth - 1),
                                      self.const(t) if r.random() < 0.6
                                      else self.expr(t, depth - 1))
        if x < 0.5:
            t = r.choice([I32, I32, I64])
            return '(%s.eqz %s)' % (t, self.expr(t, depth - 1))
        if x < 0.6:
            return '(f64.%s %s %s)' % (r.choice(F_CMP), self.expr(F64, depth - 1),
                                       self.expr(F64, depth - 1))
        if x < 0.75:   # a local compared with an immediate
            t = r.choice([I32, I64])
            return '(%s.%s (local.get %s) %s)' % (
                t, r.choice(I_CMP), r.choice(self.vals[t]), self.const(t))
        return self.expr(I32, depth - 1)

    def divisor(self, t, signed, rem, depth):
        """Never 0; never -1 for div_s (INT_MIN / -1 traps); rem_s may get
        -1 (defined: 0)."""
        r = self.r
        if r.random() < 0.3:
            wrap = i32s if t == I32 else i64s
            while True:
                v = wrap(r.choice(I64_EDGE if t == I64 else I32_EDGE))
                if v != 0 and not (signed and not rem and v == -1):
                    return '(%s.const %d)' % (t, v)
        d = self.expr(t, depth - 1)
        if signed and not (rem and r.random() < 0.5):
            return '(%s.or (%s.and %s (%s.const -3)) (%s.const 1))' % (t, t, d, t, t)
        return '(%s.or %s (%s.const 1))' % (t, d, t)

    def expr(self, t, depth):
        if depth <= 0 or self.r.random() < 0.15:
            return self.leaf(t)
        if t == F64:
            return self.f64_expr(depth)
        return self.int_expr(t, depth)

    def int_expr(self, t, depth):
        r = self.r
        o = t
        k = r.choices(['bin', 'bin_imm', 'un', 'div', 'cmp', 'load', 'loadop',
                       'conv', 'sat', 'select', 'if', 'block', 'tee', 'call',
                       'global', 'reinterp', 'trunc'],
                      [10, 8, 3, 2, 3, 5, 2, 3, 1, 2, 1, 1, 2, 2, 1, 1, 1])[0]
        self.tick()
        if k == 'bin':
            return '(%s.%s %s %s)' % (o, r.choice(I_BIN), self.expr(t, depth - 1),
                                      self.expr(t, depth - 1))
        if k == 'bin_imm':
            op = r.choice(I_BIN)
            if op in ('shl', 'shr_s', 'shr_u', 'rotl', 'rotr') and r.random() < 0.7:
                c = self.small_const(t, 0, 70)
            else:
                c = self.const(t)
            return '(%s.%s %s %s)' % (o, op, self.expr(t, depth - 1), c)
        if k == 'un':
            ops = I_UN + (['extend32_s'] if t == I64 else [])
            op = r.choice(ops)
            if op == 'eqz':
                v = '(%s.eqz %s)' % (o, self.expr(t, depth - 1))
                return v if t == I32 else '(i64.extend_i32_u %s)' % v
            return '(%s.%s %s)' % (o, op, self.expr(t, depth - 1))
        if k == 'div':
            op = r.choice(I_DIV)
            signed = op.endswith('_s')
            return '(%s.%s %s %s)' % (o, op, self.expr(t, depth - 1),
                                      self.divisor(t, signed, op.startswith('rem'), depth))
        if k == 'cmp':
            v = self.cond(depth)
            return v if t == I32 else '(i64.extend_i32_%s %s)' % (r.choice('su'), v)
        if k == 'load':
            op, w = r.choice(LOADS[t])
            return '(%s %s)' % (op, self.int_access(w, depth))
        if k == 'loadop':   # binary op of two loads (dot products)
            if t == I32:
                op, w = r.choice([('i32.load16_s', 2), ('i32.load16_u', 2), ('i32.load', 4)])
            else:
                op, w = 'i64.load', 8
            v = '(%s.mul (%s %s) (%s %s))' % (t, op, self.int_access(w, depth), op,
                                             self.int_access(w, depth))
            if r.random() < 0.5:
                v = '(%s.add %s %s)' % (t, self.expr(t, depth - 1), v)
            return v
        if k == 'conv':
            if t == I32:
                return '(i32.wrap_i64 %s)' % self.expr(I64, depth - 1)
            return '(i64.extend_i32_%s %s)' % (r.choice('su'), self.expr(I32, depth - 1))
        if k == 'sat':
            op = r.choice([s for s in SAT if s.startswith(t)])
            return '(%s %s)' % (op, self.expr(F64, depth - 1))
        if k == 'select':
            return self.select(t, depth)
        if k == 'if':
            return '(if (result %s) %s (then %s) (else %s))' % (
                t, self.cond(depth), self.expr(t, depth - 1), self.expr(t, depth - 1))
        if k == 'block':
            return self.block_expr(t, depth)
        if k == 'tee':
            return '(local.tee %s %s)' % (r.choice(self.vals[t]), self.expr(t, depth - 1))
        if k == 'call':
            c = self.call(t, depth)
            if c:
                return c
        if k == 'trunc':   # the trapping truncs, of values in range
            su = r.choice('su')
            v = '(f64.convert_i32_%s %s)' % (su, self.expr(I32, depth - 1))
            x = r.random()
            if x < 0.3:
                v = '(f64.%s %s)' % (r.choice(['floor', 'ceil', 'trunc', 'nearest']), v)
            elif x < 0.5:
                v = '(f64.div %s (f64.const %s))' % (v, r.choice(['2.5', '1', '3', '1e9']))
            return '(%s.trunc_f64_%s %s)' % (t, su, v)
        if k == 'global' and t == I32 and r.random() < 0.2:
            return '(memory.grow (i32.const 0))'
        if k == 'reinterp' and t == I64:   # NaN -> 0 first (payloads differ)
            x = self.expr(F64, depth - 1)
            tmp = r.choice(self.vals[F64])
            return ('(i64.reinterpret_f64 (select (local.tee %s %s) (f64.const 0) '
                    '(f64.eq (local.get %s) (local.get %s))))' % (tmp, x, tmp, tmp))
        return self.leaf(t)

    def f64_expr(self, depth):
        r = self.r
        k = r.choices(['bin', 'un', 'conv', 'load', 'select', 'if', 'call', 'tee',
                       'reinterp', 'fma', 'copysign', 'f32', 'loadop'],
                      [10, 4, 5, 3, 2, 1, 2, 2, 1, 2, 1, 1, 2])[0]
        self.tick()
        if k == 'bin':
            return '(f64.%s %s %s)' % (r.choice(F_BIN), self.expr(F64, depth - 1),
                                       self.expr(F64, depth - 1))
        if k == 'un':
            return '(f64.%s %s)' % (r.choice(F_UN), self.expr(F64, depth - 1))
        if k == 'conv':
            st = r.choice([I32, I64])
            return '(f64.convert_%s_%s %s)' % (st, r.choice('su'), self.expr(st, depth - 1))
        if k == 'load':
            return '(f64.load %s)' % (self.int_access(8, depth) if r.random() < 0.3
                                      else self.f64_access(depth))
        if k == 'select':
            return self.select(F64, depth)
        if k == 'if':
            return '(if (result f64) %s (then %s) (else %s))' % (
                self.cond(depth), self.expr(F64, depth - 1), self.expr(F64, depth - 1))
        if k == 'call':
            c = self.call(F64, depth)
            if c:
                return c
        if k == 'tee':
            return '(local.tee %s %s)' % (r.choice(self.vals[F64]), self.expr(F64, depth - 1))
        if k == 'reinterp':
            return '(f64.reinterpret_i64 %s)' % self.expr(I64, depth - 1)
        if k == 'loadop':   # mul of two loads, maybe added to (ll, lla)
            a, b = [self.f64_access(depth) if r.random() < 0.7 else self.int_access(8, depth)
                    for _ in range(2)]
            v = '(f64.mul (f64.load %s) (f64.load %s))' % (a, b)
            if r.random() < 0.5:
                v = '(f64.add %s %s)' % (self.expr(F64, depth - 1), v)
            return v
        if k == 'fma':   # mul then add (fused pairs bb and bbr)
            m = '(f64.mul %s %s)' % (self.expr(F64, depth - 1), self.expr(F64, depth - 1))
            c = self.expr(F64, depth - 1)
            return '(f64.add %s %s)' % ((m, c) if r.random() < 0.5 else (c, m))
        if k == 'copysign':   # sign from a value that cannot be NaN
            if r.random() < 0.5:
                return '(f64.copysign %s (f64.const %s))' % (
                    self.expr(F64, depth - 1), r.choice(['1', '-1', '-0', '0', '-inf']))
            return '(f64.copysign %s (f64.convert_i32_s %s))' % (
                self.expr(F64, depth - 1), self.expr(I32, depth - 1))
        if k == 'f32':
            op = r.choice(['add', 'mul', 'sub', 'div', 'sqrt', 'min'])
            a = '(f32.demote_f64 %s)' % self.expr(F64, depth - 1)
            if op == 'sqrt':
                v = '(f32.sqrt %s)' % a
            else:
                v = '(f32.%s %s (f32.convert_i32_s %s))' % (op, a, self.expr(I32, depth - 1))
            return '(f64.promote_f32 %s)' % v
        return self.leaf(F64)

    def select_operand(self, t, depth):
        x = self.r.random()
        if x < 0.4:
            return self.const(t)
        if x < 0.8:
            self.tick()
            return '(local.get %s)' % self.r.choice(self.vals[t])
        return self.expr(t, depth - 1)

    def select(self, t, depth):
        typed = '(result %s) ' % t if self.r.random() < 0.5 else ''
        return '(select %s%s %s %s)' % (typed, self.select_operand(t, depth),
                                        self.select_operand(t, depth), self.cond(depth))

    def block_expr(self, t, depth):
        """(block (result t) stmts (br_if with a value) stmts value)"""
        r = self.r
        lab = self.label('B')
        self.labels.append((lab, t, 'block', None))
        body = []
        for _ in range(r.randint(0, 2)):
            body.append(self.stmt(1))
        body.append('(drop (br_if %s %s %s))' % (lab, self.expr(t, depth - 1), self.cond(depth)))
        if r.random() < 0.5:
            body.append(self.stmt(1))
        body.append(self.expr(t, depth - 1))
        self.labels.pop()
        return '(block %s (result %s) %s)' % (lab, t, ' '.join(body))

    def call(self, t, depth):
        """A call (or call_indirect) to an earlier function returning t."""
        r = self.r
        cands = [f for f in self.m.funcs[:self.fn.index]
                 if f.result == t and f.cost * self.mult <= self.budget_left() // 2]
        if not cands:
            return None
        f = r.choice(cands)
        self.cost += f.cost * self.mult
        args = ' '.join(self.expr(p, depth - 2) for p in f.params)
        if r.random() < 0.35:
            same = [g for g in self.m.funcs[:self.fn.index] if g.typeidx == f.typeidx
                    and g.cost * self.mult <= self.budget_left()]
            if len(same) > 1 and r.random() < 0.5:
                g = r.choice(same)
                self.cost += g.cost * self.mult
                idx = '(select (i32.const %d) (i32.const %d) %s)' % (
                    f.index, g.index, self.cond(1))
            else:
                idx = '(i32.const %d)' % f.index
            return '(call_indirect (type $t%d) %s %s)' % (f.typeidx, args, idx)
        return '(call $f%d %s)' % (f.index, args)

    # ---- statements -----------------------------------------------------
    def stmts(self, n, depth):
        return [self.stmt(depth) for _ in range(n)]

    def stmt(self, depth):
        r = self.r
        kinds = ['set', 'set', 'set', 'store', 'store', 'moves', 'ptr', 'fptr', 'global',
                 'select', 'f64store', 'call', 'dead']
        if depth > 0:
            kinds += ['if', 'block', 'block', 'switch', 'ret']
            if self.mult * 3 <= 64 and self.budget_left() > 400:
                kinds += ['loop', 'loop']
        if self.labels:
            kinds += ['br', 'br_if', 'br_if']
        if any(kind == 'loop' for _, _, kind, _ in self.labels):
            kinds += ['continue']
        if self.budget_left() < 200:
            kinds = ['set', 'store', 'moves']
        k = r.choice(kinds)
        self.tick()
        return getattr(self, 'st_' + k)(depth)

    def st_set(self, depth):
        t = self.r.choice(NUM)
        op = 'local.set' if self.r.random() < 0.8 else None
        v = self.expr(t, self.r.randint(1, 4))
        if op:
            return '(local.set %s %s)' % (self.r.choice(self.vals[t]), v)
        return '(drop (local.tee %s %s))' % (self.r.choice(self.vals[t]), v)

    def st_store(self, depth):
        t = self.r.choice([I32, I64])
        op, w = self.r.choice(STORES[t])
        return '(%s %s %s)' % (op, self.int_access(w, 2), self.expr(t, self.r.randint(0, 3)))

    def st_f64store(self, depth):
        r = self.r
        if r.random() < 0.4:
            return '(f64.store %s %s)' % (self.f64_access(2), self.expr(F64, 3))
        # axpy: y[P] += a * x[Q]; P an f64 pointer local, maybe one an add
        # just set (e = f + 8k, e = f + f), Q any f64 address
        pre = ''
        k = r.choice([0, 8])
        x = r.random()
        if x < 0.4:
            p = r.choice(self.fptrs)
        else:
            p = r.choice(self.dfptrs)
            if x < 0.75:   # <= 0xFF8 + 0x100
                pre = '(local.set %s (i32.add (local.get %s) (i32.const %d))) ' % (
                    p, r.choice(self.fptrs), 8 * r.randint(0, 0x20))
            else:          # <= 0x1FF0
                pre = '(local.set %s (i32.add (local.get %s) (local.get %s))) ' % (
                    p, r.choice(self.fptrs), r.choice(self.fptrs))
                k = 0
        a = r.choice(self.vals[F64])
        y = r.random()
        if y < 0.5:
            q = self.f64_access(1)
        elif y < 0.8:   # x form
            q = 'offset=%d (i32.add (local.get %s) (local.get %s))' % (
                INT_END, r.choice(self.fptrs), r.choice(self.fptrs))
        else:
            q = self.int_access(8, 1)
        at = 'offset=%d (local.get %s)' % (INT_END + k, p)
        self.tick(6)
        if r.random() < 0.2:   # the loaded value on the left of the mul
            m = '(f64.mul (f64.load %s) (local.get %s))' % (q, a)
        else:
            m = '(f64.mul (local.get %s) (f64.load %s))' % (a, q)
        return pre + '(f64.store %s (f64.add (f64.load %s) %s))' % (at, at, m)

    def st_moves(self, depth):
        """A run of copies and constants (mov_C_K), sometimes then a br."""
        r = self.r
        out = []
        for _ in range(r.randint(2, 7) if r.random() < 0.7 else r.randint(6, 14)):
            t = r.choice(NUM)
            src = r.choice(self.vals[t] + (self.ptrs + self.fptrs + self.counters if t == I32 else []))
            v = ('(local.get %s)' % src if r.random() < 0.5 else
                 self.small_const(t, -5, 300) if t != F64 and r.random() < 0.7
                 else self.const(t))
            out.append('(local.set %s %s)' % (r.choice(self.vals[t]), v))
            self.tick()
        void = [l for l in self.labels if l[1] is None and l[2] == 'block']
        if void and r.random() < 0.3:
            out.append('(br %s)' % r.choice(void)[0])
        return ' '.join(out)

    def st_fptr(self, depth):
        r = self.r
        if r.random() < 0.5:
            return '(local.set %s (i32.and %s (i32.const %d)))' % (
                r.choice(self.fptrs), self.expr(I32, 2), r.choice([0xFF8, 0x7F8, 0x1F8, 0x38, 0xF80]))
        if r.random() < 0.7:
            return '(local.set %s (i32.add (local.get %s) (i32.const %d)))' % (
                r.choice(self.dfptrs), r.choice(self.fptrs), 8 * r.randint(0, 0x1F))
        return '(local.set %s (i32.add (local.get %s) (local.get %s)))' % (
            r.choice(self.dfptrs), r.choice(self.fptrs), r.choice(self.fptrs))

    def st_ptr(self, depth):
        r = self.r
        x = r.random()
        if x < 0.5 or not self.dptrs:
            return '(local.set %s (i32.and %s (i32.const %d)))' % (
                r.choice(self.ptrs), self.expr(I32, 2), r.choice(PTR_MASKS))
        d = r.choice(self.dptrs)
        if x < 0.8:
            s = '(local.set %s (i32.add (local.get %s) (i32.const %d)))' % (
                d, self.bptr(), r.randint(0, 0xFF))
        else:
            s = '(local.set %s (i32.add (local.get %s) (local.get %s)))' % (
                d, self.bptr(), self.bptr())
        if r.random() < 0.6:   # a load right after: the _kt/_xt forms
            t = r.choice([I32, I64])
            op, w = r.choice(LOADS[t])
            s += ' (local.set %s (%s offset=%d (local.get %s)))' % (
                r.choice(self.vals[t]), op, r.randint(0, 8), d)
        return s

    def st_global(self, depth):
        t = self.r.choice(NUM)
        return '(global.set $g%s %s)' % (t, self.expr(t, 3))

    def st_select(self, depth):
        t = self.r.choice(NUM)
        s = '(local.set %s %s)' % (self.r.choice(self.vals[t]), self.select(t, 2))
        void = [l for l in self.labels if l[1] is None and l[2] == 'block']
        if void and self.r.random() < 0.3:   # selectj: a select then a br
            s += ' (br %s)' % self.r.choice(void)[0]
        return s

    def st_call(self, depth):
        r = self.r
        multi = [f for f in self.m.funcs[:self.fn.index] if isinstance(f.result, tuple)
                 and f.cost * self.mult <= self.budget_left() // 2]
        if multi and r.random() < 0.4:   # (call) (local.set) ... last result first
            f = r.choice(multi)
            self.cost += f.cost * self.mult
            args = ' '.join(self.expr(p, 1) for p in f.params)
            sets = ' '.join('(local.set %s)' % r.choice(self.vals[u])
                            for u in reversed(f.result))
            return '(call $f%d %s) %s' % (f.index, args, sets)
        t = self.r.choice([I32, I64, F64, None])
        if t is None:
            c = self.call(None, 3)
            return c if c else self.st_set(depth)
        c = self.call(t, 3)
        if not c:
            return self.st_set(depth)
        return '(local.set %s %s)' % (self.r.choice(self.vals[t]), c)

    def block_body(self, depth):
        return self.stmts(self.r.randint(1, 4), depth - 1)

    def st_if(self, depth):
        c = self.cond(2)
        then = ' '.join(self.block_body(depth))
        if self.r.random() < 0.5:
            return '(if %s (then %s) (else %s))' % (c, then, ' '.join(self.block_body(depth)))
        return '(if %s (then %s))' % (c, then)

    def st_block(self, depth):
        lab = self.label('b')
        self.labels.append((lab, None, 'block', None))
        body = self.block_body(depth)
        if self.r.random() < 0.5:
            body.insert(self.r.randint(0, len(body)),
                        '(br_if %s %s)' % (lab, self.cond(2)))
        self.labels.pop()
        return '(block %s %s)' % (lab, ' '.join(body))

    def branch_value(self, t):
        return '' if t is None else ' ' + self.expr(t, 2)

    def st_br(self, depth):
        lab, t, kind, _ = self.r.choice(self.labels)
        if kind == 'loop':   # br to a loop's end block instead
            return '(br_if %s %s)' % (self.exit_label(), self.cond(2))
        return '(br %s%s)' % (lab, self.branch_value(t))

    def exit_label(self):
        outs = [l for l in self.labels if l[2] != 'loop' and l[1] is None]
        return self.r.choice(outs)[0] if outs else '0'

    def st_br_if(self, depth):
        lab, t, kind, _ = self.r.choice(self.labels)
        if kind == 'loop' or t is not None:
            if t is not None and kind != 'loop':
                return '(drop (br_if %s%s %s))' % (lab, self.branch_value(t), self.cond(2))
            lab = self.exit_label()
        return '(br_if %s %s)' % (lab, self.cond(2))

    def st_continue(self, depth):
        """A conditional branch back to an enclosing loop that allows it."""
        loops = [l for l in self.labels if l[2] == 'loop' and l[3] is not None]
        if not loops:
            return self.st_set(depth)
        lab, _, _, ctr = self.r.choice(loops)
        # taken only while the counter (decremented at the loop's top) is
        # nonzero: select(cond, 0, counter)
        return '(br_if %s (select %s (i32.const 0) (local.get %s)))' % (
            lab, self.cond(2), ctr)

    def st_ret(self, depth):
        t = self.fn.result
        v = ''.join(' ' + self.expr(u, 2) for u in self.result_types())
        if self.r.random() < 0.5:
            return '(if %s (then (return%s)))' % (self.cond(2), v)
        lab = self.label('r')   # a br_if over a return (ret_unless)
        return '(block %s (br_if %s %s) (return%s))' % (lab, lab, self.cond(2), v)

    def st_switch(self, depth):
        """br_table over nested blocks: case bodies fall through or br out."""
        r = self.r
        n = r.randint(1, 4)
        end = self.label('s')
        cases = [self.label('k') for _ in range(n)]
        x = r.random()
        if x < 0.4:
            idx = '(i32.load8_u %s)' % self.int_access(1, 2)
        elif x < 0.7:
            idx = '(i32.and %s (i32.const %d))' % (self.expr(I32, 2), r.choice([3, 7, 15]))
        else:
            idx = self.expr(I32, 2)
        targets = [r.choice(cases + [end]) for _ in range(r.randint(0, 6))]
        default = r.choice(cases + [end])
        out = '(br_table %s %s %s)' % (' '.join(targets), default, idx)
        self.labels.append((end, None, 'block', None))
        for i, c in enumerate(cases):
            # block c is open while out and earlier cases sit inside it
            self.labels.append((c, None, 'block', None))
        # build from the innermost outwards
        for i in range(n - 1, -1, -1):
            out = '(block %s %s)' % (cases[i], out)
            self.labels.pop()
            body = self.stmts(r.randint(0, 2), depth - 1)
            if r.random() < 0.6:
                body.append('(br %s)' % end)
            out = out + ' ' + ' '.join(body)
        self.labels.pop()
        return '(block %s %s)' % (end, out)

    def st_loop(self, depth):
        """A bounded loop in one of several shapes (the counter compare and
        branch fusions): the counter is reserved while the loop is open."""
        r = self.r
        trips = r.randint(1, MAX_TRIPS if self.mult == 1 else 4)
        c = self.counter()
        claimed = [c]
        old = self.mult
        style = r.choice(['top', 'add', 'up', 'while', 'exit', 'down'])
        lab = self.label('L')
        brk = self.label('x')
        init = '(local.set %s (i32.const %d))' % (c, 0 if style in ('up', 'exit') else trips)
        self.mult *= trips + 1
        self.labels.append((brk, None, 'block', None))
        # 'top' and 'while' allow a conditional br back (st_continue)
        self.labels.append((lab, None, 'loop', c if style in ('top', 'while') else None))
        bound = '(i32.const %d)' % trips
        if style in ('up', 'exit') and r.random() < 0.4:   # compare with a local
            n = self.counter()
            claimed.append(n)
            init += ' (local.set %s (i32.const %d))' % (n, trips)
            bound = '(local.get %s)' % n
        if style == 'while':
            body = ['(br_if %s (i32.eqz (local.get %s)))' % (brk, c),
                    '(local.set %s (i32.sub (local.get %s) (i32.const 1)))' % (c, c)]
            body += self.block_body(depth)
            body.append('(br %s)' % lab)
        elif style == 'top':
            body = ['(local.set %s (i32.sub (local.get %s) (i32.const 1)))' % (c, c)]
            body += self.block_body(depth)
            body.append('(br_if %s (local.get %s))' % (lab, c))
        else:
            body = self.block_body(depth)
            if r.random() < 0.4:   # a second induction variable (br_add2)
                v = r.choice(self.vals[I32])
                body.append('(local.set %s (i32.add (local.get %s) (i32.const %d)))' % (
                    v, v, r.choice([1, 4, 8, -1, 3])))
            inc = '(local.tee %s (i32.add (local.get %s) (i32.const %d)))'
            if style == 'add':     # trips, ..., 1: continue while != 0
                body.append('(br_if %s %s)' % (lab, inc % (c, c, -1)))
            elif style == 'down':  # the same with a compare
                op, k = r.choice([('gt_s', 0), ('ge_s', 1), ('ne', 0), ('gt_u', 0),
                                  ('ge_u', 1)])
                body.append('(br_if %s (i32.%s %s (i32.const %d)))' % (
                    lab, op, inc % (c, c, -1), k))
            elif style == 'up':    # 1, ..., trips: continue while < trips
                op = r.choice(['lt_s', 'lt_u', 'ne'])
                body.append('(br_if %s (i32.%s %s %s))' % (lab, op, inc % (c, c, 1), bound))
            else:                  # exit: leave when the counter reaches trips
                x = r.random()
                if x < 0.3:
                    body.append('(br_if %s (i32.eqz %s))' % (brk, inc % (c, c, -1)))
                    init = '(local.set %s (i32.const %d))' % (c, trips)
                elif x < 0.6:
                    body.append('(br_if %s (i32.%s %s %s))' % (
                        brk, r.choice(['eq', 'ge_s', 'ge_u']), inc % (c, c, 1), bound))
                else:   # the reversed compare: bound <= c
                    body.append('(br_if %s (i32.%s %s %s))' % (
                        brk, r.choice(['le_s', 'le_u']), bound, inc % (c, c, 1)))
                body.append('(br %s)' % lab)
        self.labels.pop()
        self.labels.pop()
        self.mult = old
        self.free_counters += claimed
        return '%s (block %s (loop %s %s))' % (init, brk, lab, ' '.join(body))

    def st_dead(self, depth):
        """unreachable where it is never reached."""
        r = self.r
        if r.random() < 0.5:
            return '(if (i32.gt_u (local.get %s) (i32.const %d)) (then (unreachable)))' % (
                self.bptr(), PTR_MAX)
        lab = self.label('u')
        return '(block %s (br %s) (unreachable))' % (lab, lab)

    # ---- the function -------------------------------------------------
    def result_types(self):
        return result_list(self.fn.result)

    def generate(self):
        r = self.r
        body = self.stmts(r.randint(3, 10), 3)
        for u in self.result_types():
            body.append(self.expr(u, 3))
        params = ' '.join('(param $p%d %s)' % (i, p) for i, p in enumerate(self.fn.params))
        result = result_text(self.fn.result)
        # counters claimed by a loop were returned to free_counters; all
        # counters are declared
        locs = ' '.join('(local %s %s)' % (n, ty) for n, ty in self.locals)
        self.fn.cost = max(self.cost, 1)
        return '  (func $f%d (type $t%d) %s%s\n    %s\n    %s)' % (
            self.fn.index, self.fn.typeidx, params, result, locs, '\n    '.join(body))


class ModuleGen:
    def __init__(self, seed, index):
        self.r = random.Random('%d/%d' % (seed, index))
        self.funcs = []
        self.types = []   # (params tuple, result)

    def typeidx(self, params, result):
        key = (tuple(params), result)
        if key not in self.types:
            self.types.append(key)
        return self.types.index(key)

    def result(self):
        r = self.r
        if r.random() < 0.1:
            return tuple(r.choice(NUM) for _ in range(r.randint(2, 3)))
        return r.choice([I32, I64, I64, F64, None])

    def arg(self, t):
        r = self.r
        if t == I32:
            return '(i32.const %d)' % i32s(r.choice(I32_EDGE) if r.random() < 0.7
                                          else r.getrandbits(32))
        if t == I64:
            return '(i64.const %d)' % i64s(r.choice(I64_EDGE) if r.random() < 0.7
                                          else r.getrandbits(64))
        return '(f64.const %s)' % wat_f64(r.choice(F64_EDGE))

    def checksum_term(self, t, v):
        """An i64 of the value v of type t (NaN -> fixed)."""
        if t == I32:
            return '(i64.extend_i32_s %s)' % v
        if t == I64:
            return v
        return ('(i64.xor (i64.trunc_sat_f64_s (local.tee $x %s)) (i64.reinterpret_f64 '
                '(select (local.get $x) (f64.const 0) (f64.eq (local.get $x) (local.get $x)))))'
                % v)

    def generate(self):
        r = self.r
        nfuncs = r.randint(2, 8)
        sig_pool = []
        for _ in range(r.randint(1, 3)):
            sig_pool.append(([r.choice(NUM) for _ in range(r.randint(0, 4))],
                             self.result()))
        texts = []
        for i in range(nfuncs):
            params, result = r.choice(sig_pool) if r.random() < 0.6 else (
                [r.choice(NUM) for _ in range(r.randint(0, 4))], self.result())
            f = Func(i, params, result)
            f.typeidx = self.typeidx(params, result)
            self.funcs.append(f)
            texts.append(FuncGen(self, f).generate())
        # run: call each function (the last ones more), mixing results
        run = []
        for f in self.funcs:
            for _ in range(1 if f.index < nfuncs - 2 else 2):
                args = ' '.join(self.arg(p) for p in f.params)
                call = '(call $f%d %s)' % (f.index, args)
                if f.result is None:
                    run.append(call)
                    continue
                if isinstance(f.result, tuple):   # into $q<type>_<i>, then mix
                    qs = ['$q%s_%d' % (u, i) for i, u in enumerate(f.result)]
                    run.append(call + ' ' + ' '.join('(local.set %s)' % q for q in reversed(qs)))
                    for q, u in zip(qs, f.result):
                        run.append('(local.set $h (i64.add (i64.rotl (local.get $h) (i64.const 7)) '
                                   '(i64.xor %s (i64.const %d))))'
                                   % (self.checksum_term(u, '(local.get %s)' % q),
                                      0x9E3779B9 + f.index))
                    continue
                run.append('(local.set $h (i64.add (i64.rotl (local.get $h) (i64.const 7)) '
                           '(i64.xor %s (i64.const %d))))'
                           % (self.checksum_term(f.result, call), 0x9E3779B9 + f.index))
        out = ['(module']
        for i, (params, result) in enumerate(self.types):
            ps = ''.join(' (param %s)' % p for p in params)
            rs = result_text(result)
            out.append('  (type $t%d (func%s%s))' % (i, ps, rs))
        out.append('  (memory 1)')
        out.append('  (global $gi32 (mut i32) (i32.const %d))' % i32s(r.choice(I32_EDGE)))
        out.append('  (global $gi64 (mut i64) (i64.const %d))' % i64s(r.choice(I64_EDGE)))
        out.append('  (global $gf64 (mut f64) (f64.const %s))' % wat_f64(r.choice(F64_EDGE)))
        out.append('  (table %d funcref)' % nfuncs)
        out.append('  (elem (i32.const 0) %s)' % ' '.join('$f%d' % f.index for f in self.funcs))
        for _ in range(r.randint(1, 3)):
            at = r.randrange(0, INT_END - 64)
            data = bytes(r.getrandbits(8) for _ in range(r.randint(1, 64)))
            out.append('  (data (i32.const %d) "%s")' % (at, ''.join('\\%02x' % b for b in data)))
        for _ in range(r.randint(0, 2)):   # finite doubles only in the f64 region
            at = INT_END + 8 * r.randrange(0, F64_SPAN // 8 - 8)
            vals = [r.choice(F64_EDGE[:25]) for _ in range(r.randint(1, 8))]
            data = b''.join(struct.pack('<d', v) for v in vals)
            out.append('  (data (i32.const %d) "%s")' % (at, ''.join('\\%02x' % b for b in data)))
        out += texts
        out.append('  (func (export "run") (result i64)')
        out.append('    (local $h i64) (local $i i32) (local $x f64) ' + ' '.join(
            '(local $q%s_%d %s)' % (t, i, t) for t in NUM for i in range(3)))
        out.append('    (local.set $h (i64.const 0x5bd1e995))')
        out += ['    ' + s for s in run]
        out.append('    (local.set $h (i64.xor (local.get $h) (i64.extend_i32_u (global.get $gi32))))')
        out.append('    (local.set $h (i64.add (i64.rotl (local.get $h) (i64.const 13)) '
                   '(global.get $gi64)))')
        out.append('    (local.set $h (i64.add (local.get $h) %s))'
                   % self.checksum_term(F64, '(global.get $gf64)'))
        # the integer region, then the f64 region read NaN-blind
        out.append('    (loop $m')
        out.append('      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 0x100000001b3)) '
                   '(i64.load (local.get $i))))')
        out.append('      (br_if $m (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) '
                   '(i32.const %d))))' % INT_END)
        out.append('    (loop $n')
        out.append('      (local.set $x (f64.load (local.get $i)))')
        out.append('      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 0x100000001b3)) '
                   '(i64.reinterpret_f64 (select (local.get $x) (f64.const 1) '
                   '(f64.eq (local.get $x) (local.get $x))))))')
        out.append('      (br_if $n (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) '
                   '(i32.const 65536))))')
        out.append('    (local.get $h))')
        out.append(')')
        return '\n'.join(out) + '\n', nfuncs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--first', type=int, default=0, help='index of the first module')
    ap.add_argument('--out', required=True, help='folder for the .wat files')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    total = 0
    for i in range(a.first, a.first + a.count):
        text, n = ModuleGen(a.seed, i).generate()
        total += n
        with open(os.path.join(a.out, 'm%04d.wat' % i), 'w') as f:
            f.write(text)
    print('gen: %d modules, %d functions' % (a.count, total))
    return 0


if __name__ == '__main__':
    sys.exit(main())
