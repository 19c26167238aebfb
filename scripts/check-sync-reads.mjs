#!/usr/bin/env node
// No synchronous host reads in library code (issue 10): `dataSync`, `arraySync` and `bufferSync` block on the
// device and do not exist on tfjs's webgpu backend in Node. Library code reads with `await t.data()` in async
// APIs; synchronous APIs read through @ebm/core's guarded `readSync` (a clear BACKEND_UNAVAILABLE error where
// the backend cannot read synchronously). Scans packages/*/src/**/*.ts except tests and _generated; every
// remaining occurrence must be in the allow-list below, with its reason.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** file (relative to the repository root) → why it may read synchronously. Keep this list short. */
const ALLOW = {
  // The one sanctioned sync read: guarded by canReadSync, used only by synchronous APIs (sampleSync,
  // windowAdaptationSync, GaussianNoise.fit, NUTS's sync step).
  'packages/core/src/host-read.ts': 'readSync: the guarded sync read behind the synchronous APIs',
  // assertFiniteTensor: the synchronous finite check, guarded by canReadSync (BACKEND_UNAVAILABLE elsewhere).
  'packages/core/src/energy.ts': 'checkFinite flag read of the sync API, guarded by canReadSync',
  // sampleChainSync: non-finite step report and convergence data of the synchronous loop, guarded.
  'packages/core/src/loop.ts': 'sampleChainSync reads (sync API), guarded by canReadSync',
  // driveSync of adaptive integrators (step-size decisions), guarded; driveAsync is the async twin.
  'packages/core/src/integrators/adaptive.ts': 'driveSync of adaptive integrators (sync API), guarded',
  // The fused CPU kernels (chain.<kind>) of the host backends read their inputs where they already live: host
  // memory of cpu/wasm. Registered only for cpu and wasm, and guarded (BACKEND_UNAVAILABLE elsewhere).
  'packages/core/src/cpu/host-tensors.ts': 'inputs of the fused CPU kernels, registered for cpu/wasm only',
  // Test helpers shipped as @ebm/core/testing: cpu-only statistical checks, never in a library path.
  'packages/core/src/testing/conservation.ts': 'test helper (@ebm/core/testing), cpu only',
  // TODO(kernels helper, issue 10): constructor arguments given as tensors are read once at construction.
  'packages/models/src/analytic/linalg.ts': 'constructor arguments read at construction (kernels helper)',
  // TODO(issue 10): the sync weights getter of neural energies; an async getter to follow.
  'packages/models/src/neural/base.ts': 'sync weights read (getWeights) of neural energies',
};

const root = new URL('..', import.meta.url).pathname;
const isTest = (p) => /\.test\.ts$|\.bench\.ts$|[\\/](test|tests|bench|__tests__)[\\/]/.test(p);
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === '_generated') continue;
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield p;
  }
}

const re = /\b(dataSync|arraySync|bufferSync)\s*(?:<[^>]*>)?\s*\(/g;
const problems = [];
const used = new Set();
for (const dir of readdirSync(join(root, 'packages'))) {
  const src = join(root, 'packages', dir, 'src');
  try {
    statSync(src);
  } catch {
    continue;
  }
  for (const f of walk(src)) {
    const rel = relative(root, f);
    if (isTest(relative(join(root, 'packages', dir), f))) continue;
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (/^\s*(\*|\/\*)/.test(line)) return; // JSDoc / block comments
      for (const m of code.matchAll(re)) {
        if (rel in ALLOW) {
          used.add(rel);
          continue;
        }
        problems.push(
          `${rel}:${i + 1}: ${m[1]}() — read with \`await t.data()\` in an async API, or readSync from @ebm/core in a sync one`,
        );
      }
    });
  }
}
for (const f of Object.keys(ALLOW)) {
  if (!used.has(f))
    problems.push(
      `${f}: in the allow-list of scripts/check-sync-reads.mjs but has no sync read: remove the entry`,
    );
}
if (problems.length > 0) {
  console.error(`check-sync-reads: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-sync-reads: ok (${Object.keys(ALLOW).length} allow-listed files)`);
