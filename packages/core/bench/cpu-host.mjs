// pnpm bench (core): the fused CPU kernels in one thread, CPU time (process.cpuUsage, so a shared machine's
// waiting does not count), medians, all in one run:
// - normals: the host Philox normal filler (`normalRange`) — wasm SIMD, scalar wasm, JavaScript — ns/normal;
// - langevin: DoubleWell 4096×32×100 Langevin through `runChainHost` (one thread): the SIMD tile (normals,
//   gradient and update in wasm SIMD) and, with SIMD normals off, the previous path (scalar wasm normals, JS
//   loop) — ns per element-step;
// - mlp: MLP 32→128→128→1 (SiLU) Langevin 4096×32 (10 steps; 100 with --full), fused — ms per step and GFLOP/s
//   (2·(32·128 + 128·128 + 128) multiply-adds forward + 2·(128 + 128·128 + 128·32) backward per row-step).
// Writes bench-results/core-cpu-host.json. Usage: node bench/cpu-host.mjs [--only normals|langevin|mlp] [--full]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runChainHost } from '../dist/index.js';
import { normalRange, setSimdNormals, setWasmNormals, wasmNormals } from '../dist/internal.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const full = args.includes('--full');
const want = (s) => only === undefined || only === s;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
};
/** Median CPU ms of `fn` over `reps` runs after one warm-up. */
function time(fn, reps) {
  fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMs();
    fn();
    t.push(cpuMs() - c0);
  }
  return median(t);
}
const rows = [];
const row = (label, value, unit) => {
  rows.push({ label, value, unit });
  console.log(`${label.padEnd(58)} ${value.toFixed(2).padStart(9)} ${unit}`);
};
const normalsMode = (wasm, simd) => () => {
  setWasmNormals(wasm);
  setSimdNormals(simd);
};
const modes = {
  simd: normalsMode(true, true),
  'scalar wasm': normalsMode(true, false),
  js: normalsMode(false, true),
};
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`;
console.log(`core fused CPU kernels, one thread (${machine}); CPU time, medians`);
console.log(
  `normal filler in use: ${wasmNormals()?.simd ? 'wasm SIMD' : wasmNormals() ? 'scalar wasm' : 'JS'}`,
);

const [B, D, N] = [4096, 32, 100];
if (want('normals')) {
  const out = new Float32Array(64 * D); // one tile of the chain loop per call, as the chains draw them
  const calls = 2000;
  for (const [name, set] of Object.entries(modes)) {
    set();
    const ms = time(() => {
      for (let i = 0; i < calls; i++) normalRange(i, 7, (i % 64) * out.length, out.length, out, 0);
    }, 7);
    row(`normals (${name})`, (ms * 1e6) / (calls * out.length), 'ns/normal');
  }
  modes.simd();
}
if (want('langevin')) {
  const spec = {
    kind: 'doubleWell',
    params: { barrierHeight: 2, b: 1 },
    method: 'langevin',
    settings: { stepSize: 0.01, noiseScale: 1 },
    nSteps: N,
    key: [1, 2],
  };
  const x0 = new Float32Array(B * D).map((_, i) => Math.sin(i));
  for (const name of ['simd', 'scalar wasm']) {
    modes[name]();
    const ms = time(() => runChainHost(spec, x0.slice(), D, 0, B), 3);
    const how = name === 'simd' ? 'SIMD tile' : 'scalar wasm normals, JS loop: the previous path';
    row(`DoubleWell Langevin ${B}x${D}x${N} (${how})`, (ms * 1e6) / (B * D * N), 'ns/elem-step');
  }
  modes.simd();
}
if (want('mlp')) {
  const sizes = [D, 128, 128, 1];
  let s = 1;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.3;
  };
  const weights = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    weights.push(Float32Array.from({ length: sizes[l] * sizes[l + 1] }, rnd));
    weights.push(Float32Array.from({ length: sizes[l + 1] }, rnd));
  }
  const steps = full ? 100 : 10;
  const spec = {
    kind: 'mlp',
    params: { sizes, activation: 'silu', weights },
    method: 'langevin',
    settings: { stepSize: 0.01, noiseScale: 1 },
    nSteps: steps,
    key: [1, 2],
  };
  const x0 = new Float32Array(B * D).map((_, i) => Math.sin(i));
  const ms = time(() => runChainHost(spec, x0.slice(), D, 0, B), 3);
  const flops = 2 * (32 * 128 + 128 * 128 + 128 + 128 + 128 * 128 + 128 * 32) * B * steps;
  row(`MLP 32-128-128-1 Langevin ${B}x${D} (${steps} steps)`, ms / steps, 'ms/step');
  row('MLP gemm rate', flops / (ms * 1e6), 'GFLOP/s');
}
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/core-cpu-host.json', JSON.stringify({ machine, rows }, null, 2));
