// Section `mlpsweep` of gpu-compare.mjs (issue 11): every program variant of the whole-chain MLP Langevin kernel
// (`settings.mlpVariant`: the cooperative program 'coop' of mlp-coop.ts in its shapes `settings.mlpCoopShape`, and
// the register-tiled 'tile:<c>x<t>x<rc>x<ru>[c]' of mlp-tile.ts, suffix c: a thread's units contiguous) at the harness size: MLPEnergy 32→128→128→1 SiLU
// seed 7 (the weights `dump-mlp` writes to mlp_weights.json for the TorchEBM side), 4096 chains, 100 steps, step
// 0.01, noise 1. Each timed run is the bare chain.mlp kernel plus the read-back of the 4096×32 states; the
// variants' reps are interleaved (rep k of every variant, then rep k + 1), so drift of the machine hits them all
// alike. Same keys everywhere: maxAbsDiff vs the default program (float32 summation order only). Then the fused
// CD-10 training chain's size (2→128→128→1, 256 chains, 10 steps), where few chains give few workgroups. With
// --small: 64 chains, 3 steps, a few variants (lavapipe). Imported by gpu-compare.mjs; `ctx` brings its helpers.
import { chainKernelName, getKernelImpl, randomNormal, rngKey } from '@ebm/core';
import { MLPEnergy } from '@ebm/models';

/** Variants of the harness case (32→128→128→1, 4096 chains): label → settings (on top of mlpCooperative: 1). */
function harnessVariants(small) {
  const out = [['default', {}]];
  const coop = small ? ['8x128'] : ['4x128', '8x64', '8x128', '16x128'];
  for (const s of coop) out.push([`coop ${s}`, { mlpVariant: 'coop', mlpCoopShape: s }]);
  const tiles = small
    ? ['tile', 'tile:8x64x4x4']
    : [
        'tile',
        'tile:4x32x4x4',
        'tile:4x64x4x2',
        'tile:8x32x8x4',
        'tile:8x64x4x4',
        'tile:8x64x8x2',
        'tile:8x128x4x2',
        'tile:16x32x8x8',
        'tile:16x64x4x8',
        'tile:16x64x8x4',
        'tile:16x128x4x4',
        'tile:16x128x8x2',
        'tile:16x256x4x2',
        'tile:32x64x8x8',
        'tile:32x128x8x4',
        'tile:32x256x4x4',
        'tile:8x64x4x4c',
        'tile:8x128x4x2c',
        'tile:16x32x8x8c',
        'tile:16x64x8x4c',
        'tile:16x128x4x4c',
        'tile:32x128x8x4c',
      ];
  for (const t of tiles) out.push([t, { mlpVariant: t }]);
  return out;
}

/** Variants of the training case (2→128→128→1, 256 chains, CD-10's chain): few chains, so few workgroups. */
function trainVariants() {
  const out = [['default', {}]];
  for (const s of ['2x128', '4x128']) out.push([`coop ${s}`, { mlpVariant: 'coop', mlpCoopShape: s }]);
  for (const t of [
    'tile',
    'tile:4x32x4x4',
    'tile:4x64x4x2',
    'tile:4x128x4x1',
    'tile:4x128x4x1c',
    'tile:8x256x4x1',
  ])
    out.push([t, { mlpVariant: t }]);
  return out;
}

export async function sectionMlpSweep(ctx) {
  const { gpu, watchDevice, small } = ctx;
  await gpu();
  watchDevice();
  if (small) await sweep(ctx, [64, 32, 3], harnessVariants(true));
  else {
    await sweep(ctx, [4096, 32, 100], harnessVariants(false));
    await sweep(ctx, [256, 2, 10], trainVariants());
  }
}

/** Times `list` (label, settings) on B chains of dimension D for N steps: interleaved reps, maxAbsDiff vs the first. */
async function sweep(ctx, [B, D, N], list) {
  const { emit, median, small, repsArg } = ctx;
  const chain = getKernelImpl(chainKernelName('mlp'), 'webgpu');
  const reps = repsArg ?? (small ? 3 : 15);
  const energy = new MLPEnergy({ inputDim: D, widths: [128, 128], activation: 'silu', seed: 7 });
  const params = energy.kernelHint.params;
  const x0 = randomNormal(rngKey(5), [B, D]);
  const meta = {
    section: 'mlpsweep',
    energy: `MLPEnergy ${D}-128-128-1 SiLU seed 7`,
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const once = async (settings, seed) => {
    const t0 = performance.now();
    const out = chain({ method: 'langevin', x0, nSteps: N, key: rngKey(seed), params, settings });
    const data = await out.data();
    const ms = performance.now() - t0;
    out.dispose();
    return { ms, data };
  };
  // Compile and check every variant once (seed 1: the same keys for all), then the interleaved reps.
  const live = [];
  let ref;
  for (const [label, extra] of list) {
    const settings = { stepSize: 0.01, noiseScale: 1, mlpCooperative: 1, ...extra };
    try {
      const t0 = performance.now();
      const { data } = await once(settings, 1);
      const firstMs = performance.now() - t0;
      await once(settings, 2);
      if (ref === undefined) ref = data;
      let maxAbsDiff = 0;
      let nonFinite = 0;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) nonFinite++;
        else maxAbsDiff = Math.max(maxAbsDiff, Math.abs(data[i] - ref[i]));
      }
      live.push({ label, settings, ms: [], maxAbsDiff, nonFinite, firstMs });
    } catch (e) {
      emit({
        side: 'ebm',
        ...meta,
        variant: label,
        path: `chain.mlp ${label}`,
        error: String(e?.message ?? e).slice(0, 400),
      });
    }
  }
  for (let k = 0; k < reps; k++) {
    for (const v of live) v.ms.push((await once(v.settings, 100 + k)).ms);
  }
  const base = live.find((v) => v.label === 'default');
  const baseMs = base === undefined ? Number.NaN : median(base.ms);
  for (const v of live.sort((a, b) => median(a.ms) - median(b.ms))) {
    const med = median(v.ms);
    emit({
      side: 'ebm',
      ...meta,
      variant: v.label,
      path: `chain.mlp ${v.label} (bare kernel + read-back, interleaved)`,
      medianMs: med,
      minMs: Math.min(...v.ms),
      maxMs: Math.max(...v.ms),
      n: v.ms.length,
      ms: v.ms.map((x) => Math.round(x * 100) / 100),
      vsDefault: med / baseMs,
      maxAbsDiff: v.maxAbsDiff,
      nonFinite: v.nonFinite,
      firstCallMs: Math.round(v.firstMs),
    });
    console.log(
      `S ebm mlpsweep B${B} D${D} N${N} ${v.label.padEnd(18)} median ${med.toFixed(3)} ms (min ${Math.min(...v.ms).toFixed(3)}) ×${(med / baseMs).toFixed(3)} of default, maxAbsDiff ${v.maxAbsDiff.toExponential(2)}${v.nonFinite ? ` nonFinite ${v.nonFinite}` : ''}`,
    );
  }
  x0.dispose();
  energy.dispose();
}
