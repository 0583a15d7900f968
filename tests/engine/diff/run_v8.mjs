// run_v8.mjs - runs the `run` export of each .wasm file named on the
// command line in V8 (one node process for all) and prints one line per
// file: the i64 result as a signed decimal, or "trap: MESSAGE".
// Part of the differential test (diff_test.py).
import { readFileSync } from 'node:fs';

for (const path of process.argv.slice(2)) {
  let line;
  try {
    const mod = new WebAssembly.Module(readFileSync(path));
    const inst = new WebAssembly.Instance(mod, {});
    line = BigInt.asIntN(64, inst.exports.run()).toString();
  } catch (e) {
    line = 'trap: ' + String(e && e.message ? e.message : e).split('\n')[0];
  }
  process.stdout.write(line + '\n');
}
