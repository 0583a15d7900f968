#!/usr/bin/env python3
"""diff_test.py - differential test of the engine against V8.

    diff_test.py --water BUILD/src/water --wat2wasm wat2wasm --node node \\
                 --seed S --count N --work DIR [--first I] [--jobs J]

Generates N modules of seed S (gen.py), converts each with wat2wasm (a
failure there is a generator bug and fails the test), runs the export
`run` of each in water (`water exec FILE.wasm --invoke run`, one process a
module) and all of them in one node process (run_v8.mjs), and compares the
results line by line. On a mismatch or a trap it prints the seed, the
module's index, its .wat file (kept in DIR) and both results. Last line:
`diff: N modules, M functions, K mismatches`. Exit status 0 when every
module agrees, 1 otherwise. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen  # noqa: E402


def fail(msg):
    print('diff: FAIL: ' + msg, flush=True)
    sys.exit(1)


def run(cmd, timeout=60):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)


def water_result(water, wasm):
    """The engine's result as a line like node's: the number, or 'trap: ...'."""
    try:
        p = run([water, 'exec', wasm, '--invoke', 'run'], timeout=30)
    except subprocess.TimeoutExpired:
        return 'trap: timed out after 30 s'
    if p.returncode != 0:
        err = p.stderr.strip().splitlines()
        return 'trap: exit %d: %s' % (p.returncode, err[-1] if err else '')
    return p.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--water', required=True)
    ap.add_argument('--wat2wasm', required=True)
    ap.add_argument('--node', required=True)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--first', type=int, default=0, help='index of the first module')
    ap.add_argument('--work', required=True, help='folder for the .wat and .wasm files')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    t0 = time.monotonic()
    work = os.path.join(a.work, 'seed%d' % a.seed)
    os.makedirs(work, exist_ok=True)

    idx = range(a.first, a.first + a.count)
    wats, wasms, nfuncs = [], [], 0
    for i in idx:
        text, n = gen.ModuleGen(a.seed, i).generate()
        nfuncs += n
        wat = os.path.join(work, 'm%04d.wat' % i)
        with open(wat, 'w') as f:
            f.write(text)
        wats.append(wat)
        wasms.append(wat[:-4] + '.wasm')

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for wat, wasm, p in zip(wats, wasms, pool.map(
                lambda w: run([a.wat2wasm, w[0], '-o', w[1]]), zip(wats, wasms))):
            if p.returncode != 0:
                fail('wat2wasm rejects %s (a generator bug; seed %d):\n%s'
                     % (wat, a.seed, p.stderr.strip()))
        ours = list(pool.map(lambda w: water_result(a.water, w), wasms))

    p = run([a.node, os.path.join(HERE, 'run_v8.mjs')] + wasms, timeout=300)
    if p.returncode != 0:
        fail('node failed (exit %d):\n%s' % (p.returncode, p.stderr.strip()))
    theirs = p.stdout.splitlines()
    if len(theirs) != len(wasms):
        fail('node printed %d lines for %d modules' % (len(theirs), len(wasms)))

    bad = 0
    for i, wat, mine, v8 in zip(idx, wats, ours, theirs):
        if mine != v8 or mine.startswith('trap'):
            bad += 1
            print('MISMATCH seed %d module %d: %s\n  water: %s\n  v8:    %s\n'
                  '  rerun: %s --seed %d --first %d --count 1 ...'
                  % (a.seed, i, wat, mine, v8, sys.argv[0], a.seed, i), flush=True)
    print('diff: %d modules, %d functions, %d mismatches (seed %d, %.1f s)'
          % (len(wasms), nfuncs, bad, a.seed, time.monotonic() - t0))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
