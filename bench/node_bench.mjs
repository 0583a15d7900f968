// node_bench.mjs - runs the benchmark kernels in node's WebAssembly (V8).
//
//   node node_bench.mjs [--reps R] --dir DIR NAME SIZE [NAME SIZE ...]
//
// Compiles and instantiates DIR/NAME.wasm without imports, calls its export
// NAME(SIZE) R times (default 3), timing only the call, and prints
//     result NAME SIZE TYPE:CHECKSUM SECONDS
// (tab-separated, the same format as bench_native; the checksum in unsigned
// decimal; SECONDS is the fastest call, so V8 has had the chance to tier up
// from Liftoff to TurboFan between calls). Exits 1 on any failure or if a
// kernel returns different checksums on different calls.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

function usage() {
  process.stderr.write('usage: node node_bench.mjs [--reps R] --dir DIR NAME SIZE [NAME SIZE ...]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let reps = 3;
let dir = '.';
while (args.length >= 2 && args[0].startsWith('--')) {
  const [opt, val] = args.splice(0, 2);
  if (opt === '--reps') reps = Number.parseInt(val, 10);
  else if (opt === '--dir') dir = val;
  else usage();
}
if (!(reps >= 1) || args.length === 0 || args.length % 2 !== 0) usage();

let status = 0;
for (let i = 0; i < args.length; i += 2) {
  const name = args[i];
  const size = Number.parseInt(args[i + 1], 10) | 0;
  try {
    const mod = new WebAssembly.Module(readFileSync(`${dir}/${name}.wasm`));
    const inst = new WebAssembly.Instance(mod, {});
    const fn = inst.exports[name];
    if (typeof fn !== 'function') throw new Error(`no function export '${name}'`);
    let best = Infinity;
    let first;
    let type;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const v = fn(size);
      const t = (performance.now() - t0) / 1e3;
      let sum;
      if (typeof v === 'bigint') {
        type = 'i64';
        sum = BigInt.asUintN(64, v).toString();
      } else {
        type = 'i32';
        sum = String(v >>> 0);
      }
      if (r === 0) first = sum;
      else if (sum !== first) {
        process.stderr.write(`node_bench: ${name}(${size}) is not deterministic: ${first} then ${sum}\n`);
        status = 1;
      }
      if (t < best) best = t;
    }
    process.stdout.write(`result\t${name}\t${size}\t${type}:${first}\t${best.toFixed(6)}\n`);
  } catch (e) {
    process.stderr.write(`node_bench: ${name}(${size}): ${e.message}\n`);
    status = 1;
  }
}
process.exit(status);
