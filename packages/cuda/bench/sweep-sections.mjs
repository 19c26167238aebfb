// Section `chainsweep` of gpu-compare.mjs (issue 11): the separable whole-chain program's code variants (unrolled,
// interleaved Philox; workgroup size; hoisted Philox rounds; branch-free normals — see SeparableChainVariant in
// src/chain-programs.ts), DoubleWell Langevin, bare kernel + read-back and the
// public sample() + read-back per variant, in interleaved rounds, plus a check that every variant's output is
// bit-identical to the default's.
// Imported by gpu-compare.mjs (bundled with it); `ctx` brings its helpers: { emit, median, gpu, watchDevice, small,
// repsArg, dawnErrors }.
//
//   node ebm.mjs chainsweep [--small] [--reps N]
//   EBM_SWEEP_VARIANTS='u1/w64,u2/w64/hoist'  the variants to time (labels 'u<U>/w<W>[/hoist][/select]'; the
//                                              default variant u1/w64 is always added as the reference)
//   EBM_SWEEP_SIZE=4096                        one size only (its number of chains)
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainKernelName, getKernelImpl, randomNormal, rngKey } from '@ebm/core';
import { separableChainVariant, separableVariantLabel, setSeparableChainVariant } from '@ebm/cuda';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { quartiles } from './timing.mjs';

const SETTINGS = { stepSize: 0.01, noiseScale: 1 };
const dw = () => new DoubleWell({ barrierHeight: 2, b: 1 });

/**
 * One factor at a time from the default, then combinations. (The chunked one-thread-per-element forms, `/c<S>`,
 * were swept in session 13 at 4096×32 — kernel + read 1.25–1.58 ms against 1.16 for u2/w128/hoist/select,
 * results/h200-2026-11-30-session13/callB — and removed.)
 */
export const SWEEP_VARIANTS = [
  'u1/w64',
  'u2/w64',
  'u4/w64',
  'u1/w128',
  'u1/w256',
  'u1/w64/hoist',
  'u1/w64/select',
  'u1/w64/hoist/select',
  'u2/w64/hoist/select',
  'u4/w64/hoist/select',
  'u2/w128/hoist/select',
];

/**
 * A JSON row as the harness's `emit` writes it ($OUT/ebm.jsonl, or a RESULT line without OUT) but without its
 * one-line console summary: the per-variant rows get one compact line of their own below, so that the device's
 * 12 000-character output tail holds a whole sweep.
 */
function row(r) {
  const line = JSON.stringify(r);
  if (process.env.OUT) appendFileSync(join(process.env.OUT, 'ebm.jsonl'), `${line}\n`);
  else console.log(`RESULT ${line}`);
}

/** The timed calls' quartiles (`timing.mjs`) and each call's ms. */
function summary(ms) {
  return { ...quartiles(ms), ms: ms.map((v) => Math.round(v * 1000) / 1000) };
}

/** Raw bits of a float32 read-back. */
const bitsOf = (d) => new Uint32Array(Float32Array.from(d).buffer);

function differing(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** The default variant's label ('u1/w64'). */
const DEFAULT_LABEL = separableVariantLabel(separableChainVariant());

/** The canonical label of a variant spec (validated: an EbmError for a bad one). */
function canonical(spec) {
  const prev = setSeparableChainVariant(spec);
  const label = separableVariantLabel(separableChainVariant());
  setSeparableChainVariant(prev);
  return label;
}

/** The shader-key suffix of a variant's program (empty for the default: its key is unchanged). */
function keyTag(label) {
  return label === DEFAULT_LABEL ? '' : `_${label.split('/').join('_')}`;
}

/**
 * `chainsweep`: per size (4096×32×1000, 65536×32×200, 1048576×32×50; --small: 256×32×20, 1024×32×7) and per
 * variant, (a) the bare `chain.doubleWell` kernel (x0 given) + `data()` and (b) `LangevinDynamics(DoubleWell).sample()`
 * + `data()` (x0 drawn in the kernel), timed in interleaved rounds (variant order rotated each round) after a
 * warm-up that compiles each variant's two programs; (c) the kernel's GPU time from timestamp queries where the
 * adapter has them; and a check row: elements of (a) and (b) whose bits differ from the default variant's (same
 * seeds), which must be 0, and whether the variant's program really ran (its shader key in the pipeline cache).
 */
export async function sectionChainsweep(ctx) {
  const { emit, gpu, watchDevice, small, repsArg } = ctx;
  await gpu();
  watchDevice();
  const sizes = small
    ? [
        [256, 32, 20],
        [1024, 32, 7],
      ]
    : [
        [4096, 32, 1000],
        [65536, 32, 200],
        [1048576, 32, 50],
      ];
  const env = process.env.EBM_SWEEP_VARIANTS;
  const asked = env ? env.split(',').map((s) => s.trim()) : SWEEP_VARIANTS;
  // Canonical labels (validated), the default first, no duplicates.
  const labels = [...new Set([DEFAULT_LABEL, ...asked.map(canonical)])];
  const only = process.env.EBM_SWEEP_SIZE;
  const chain = getKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  const params = dw().kernelHint.params;
  const sampler = new LangevinDynamics(dw(), SETTINGS);
  const cache = () => Object.keys(tf.backend().pipelineCache ?? {});
  // sample()'s default onNonFinite 'warn' prints a warning per call with a non-finite chain (≈ 11 chains in 2²⁰ at
  // 1048576×32×50: x0 beyond the Euler escape bound): counted, not printed, during the sweep.
  const warn = console.warn;
  let warnings = 0;
  console.warn = () => {
    warnings++;
  };
  try {
    for (const [B, D, N] of sizes) {
      if (only && Number(only) !== B) continue;
      const started = performance.now();
      const big = B * D >= 1 << 24;
      const reps = repsArg ?? (small ? 5 : big ? 5 : B >= 65536 ? 15 : 21);
      const meta = { section: 'chainsweep', energy: 'DoubleWell(h=2,b=1)', chains: B, dim: D, steps: N };
      const size = `${B}x${D}x${N}`;
      const x0 = randomNormal(rngKey(1), [B, D]);
      await x0.data();
      const kernel = async (seed) => {
        const y = chain({
          method: 'langevin',
          x0,
          nSteps: N,
          key: rngKey(seed),
          startStep: 0,
          params,
          settings: SETTINGS,
        });
        const d = await y.data();
        y.dispose();
        return d;
      };
      const sample = async (seed) => {
        const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed });
        const d = await r.samples.data();
        r.samples.dispose();
        return d;
      };
      // Warm-up (compiles both programs of every variant) and the check against the default variant.
      let refK;
      let refS;
      const checks = {};
      for (const label of labels) {
        setSeparableChainVariant(label);
        const k = bitsOf(await kernel(4242));
        const s = bitsOf(await sample(4242));
        await kernel(4243);
        await sample(4243);
        if (refK === undefined) {
          refK = k;
          refS = s;
        }
        const tag = keyTag(label);
        const ran =
          tag === ''
            ? cache().some((c) => c.startsWith('ebm_chain_sep_langevin_doubleWell_1000_'))
            : cache().some((c) => c.includes(`_1000${tag}_`)) &&
              cache().some((c) => c.includes(`_draw${tag}_`));
        checks[label] = { kernelDiffer: differing(k, refK), sampleDiffer: differing(s, refS), ran };
      }
      // Interleaved rounds: every variant once per round, the order rotated by one each round.
      const tK = Object.fromEntries(labels.map((l) => [l, []]));
      const tS = Object.fromEntries(labels.map((l) => [l, []]));
      for (let r = 0; r < reps; r++) {
        for (let i = 0; i < labels.length; i++) {
          const label = labels[(i + r) % labels.length];
          setSeparableChainVariant(label);
          let t0 = performance.now();
          await kernel(r + 1);
          tK[label].push(performance.now() - t0);
          t0 = performance.now();
          await sample(r + 1);
          tS[label].push(performance.now() - t0);
        }
      }
      // GPU time of the kernel alone (timestamp queries: tf.time's kernelMs), where the adapter has them.
      const gpuMs = {};
      for (const label of labels) {
        setSeparableChainVariant(label);
        try {
          const t = [];
          for (let k = 0; k < (big ? 3 : 7); k++) {
            const info = await tf.time(() =>
              chain({
                method: 'langevin',
                x0,
                nSteps: N,
                key: rngKey(k + 1),
                startStep: 0,
                params,
                settings: SETTINGS,
              }),
            );
            if (typeof info.kernelMs === 'number') t.push(info.kernelMs);
          }
          gpuMs[label] = t.length ? summary(t) : undefined;
        } catch (e) {
          gpuMs[label] = { error: String(e).slice(0, 200) };
        }
      }
      setSeparableChainVariant(undefined);
      const def = labels[0];
      const kDef = summary(tK[def]).medianMs;
      const sDef = summary(tS[def]).medianMs;
      const rows = [];
      for (const label of labels) {
        const k = summary(tK[label]);
        const s = summary(tS[label]);
        const g = gpuMs[label];
        const v = { ...meta, variant: label };
        // Two rows per variant: the kernel's (with its GPU time and the check) and sample()'s.
        row({
          side: 'ebm',
          ...v,
          path: `chainsweep ${label}: bare kernel + data()`,
          ...k,
          kernelGpu: g,
          check: checks[label],
        });
        row({ side: 'ebm', ...v, path: `chainsweep ${label}: sample() + data()`, ...s });
        rows.push({ label, k, s, g });
        const c = checks[label];
        const f = (x) => x.toFixed(3);
        console.log(
          `S ebm chainsweep ${size} ${label.padEnd(24)} | kernel ${f(k.medianMs)} [${f(k.minMs)}..${f(k.maxMs)}] x${f(k.medianMs / kDef)}` +
            ` | sample ${f(s.medianMs)} [${f(s.minMs)}..${f(s.maxMs)}] x${f(s.medianMs / sDef)}` +
            ` | gpu ${g?.medianMs !== undefined ? f(g.medianMs) : 'n/a'} | diff ${c.kernelDiffer}/${c.sampleDiffer}${c.ran ? '' : ' NOT-RUN'}`,
        );
      }
      const bad = labels.filter(
        (l) => checks[l].kernelDiffer !== 0 || checks[l].sampleDiffer !== 0 || !checks[l].ran,
      );
      emit({
        side: 'ebm',
        ...meta,
        path: 'chainsweep check: variants whose output differs from the default (or whose program did not run)',
        bad,
        variants: labels.length,
      });
      const best = (key) =>
        [...rows]
          .filter((r) => r[key]?.medianMs !== undefined)
          .sort((a, b) => a[key].medianMs - b[key].medianMs)[0];
      const bk = best('k');
      const bs = best('s');
      const bg = best('g');
      console.log(
        `S ebm chainsweep ${size} summary: ${labels.length} variants, ${reps} rounds, ${((performance.now() - started) / 1000).toFixed(1)} s, ${warnings} sample() warnings; ` +
          `check ${bad.length === 0 ? 'all bit-identical' : `DIFFER/NOT-RUN: ${bad.join(' ')}`}; ` +
          `best kernel+read ${bk.label} ${bk.k.medianMs.toFixed(3)} ms (default ${kDef.toFixed(3)}), best sample()+read ${bs.label} ${bs.s.medianMs.toFixed(3)} ms (default ${sDef.toFixed(3)})` +
          (bg
            ? `, best GPU ${bg.label} ${bg.g.medianMs.toFixed(3)} ms (default ${gpuMs[def]?.medianMs?.toFixed(3)})`
            : ''),
      );
      warnings = 0;
      x0.dispose();
    }
  } finally {
    console.warn = warn;
    setSeparableChainVariant(undefined);
  }
}
