/**
 * Choosing a backend: the same Langevin run on tfjs's cpu, wasm and webgpu backends, and what each costs.
 *
 * Runs 4096 double-well chains for 200 Langevin steps (h = 0.01) on every backend that starts here, after a
 * short warm-up run (kernel compilation, WebAssembly instantiation), and prints wall time, chain-steps per second
 * and the mean energy of the final states (the same distribution on every backend, so the means agree within
 * Monte-Carlo error). `webgpu` runs through Dawn in Node (`@ebm/cuda`'s setupWebGpu): on a machine without a GPU
 * that is Mesa's lavapipe, a software Vulkan — correct but slow; where it cannot start it is reported as
 * unavailable with the reason. The backend that was active before is restored at the end.
 *
 * Rules of thumb: `cpu` is the reference and fine for small 2-D work; `wasm` (SIMD, multi-threaded) is
 * usually the fastest stock backend in Node; `webgpu` pays off on a real GPU with large batches.
 */

import { useBackend } from '@ebm/core';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import { combineFigures, plotSamples } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, type BackendName, selectBackend } from '../lib/backend.js';
import { context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Timing of one backend. */
export interface BackendTiming {
  readonly available: boolean;
  readonly description?: string;
  readonly reason?: string;
  readonly ms?: number;
  readonly chainStepsPerSecond?: number;
  /** Mean and standard error of E over the final states. */
  readonly meanEnergy?: number;
  readonly standardError?: number;
}

/** Runs the example; `backends` picks which to try (default all three). */
export async function run(options: ExampleOptions & { backends?: readonly BackendName[] } = {}) {
  const ctx = context('choosing-a-backend', options);
  const nChains = ctx.smoke ? 512 : 4096;
  const nSteps = ctx.smoke ? 50 : 200;
  const previous = tf.getBackend();
  const energy = new DoubleWell({ barrierHeight: 2 });
  const timings: Record<string, BackendTiming> = {};
  const figs = [];
  for (const name of options.backends ?? BACKENDS) {
    let description: string;
    try {
      description = await selectBackend(name);
    } catch (e) {
      timings[name] = { available: false, reason: e instanceof Error ? e.message : String(e) };
      console.log(`${name}: unavailable (${timings[name].reason})`);
      continue;
    }
    const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
    const warm = await sampler.sample({ nSamples: 64, dim: 2, nSteps: 5, seed: ctx.seed });
    await warm.samples.data();
    warm.samples.dispose();
    const t0 = performance.now();
    const r = await sampler.sample({ nSamples: nChains, dim: 2, nSteps, seed: ctx.seed + 1 });
    const e = (await energy.energy(r.samples).data()) as Float32Array; // reading forces the work to finish
    const ms = performance.now() - t0;
    const m = e.reduce((a, b) => a + b, 0) / e.length;
    const sd = Math.sqrt(e.reduce((a, b) => a + (b - m) ** 2, 0) / (e.length - 1));
    timings[name] = {
      available: true,
      description,
      ms: Math.round(ms),
      chainStepsPerSecond: Math.round((nChains * nSteps) / (ms / 1000)),
      meanEnergy: round(m),
      standardError: round(sd / Math.sqrt(e.length), 5),
    };
    console.log(
      `${description}: ${Math.round(ms)} ms, ${timings[name].chainStepsPerSecond} chain-steps/s, mean E ${m.toFixed(3)}`,
    );
    const shown = Math.min(nChains, 800); // plot a subset: 4096 points would hide the wells
    const cpuSamples = tf.tensor2d(((await r.samples.data()) as Float32Array).slice(0, 2 * shown), [
      shown,
      2,
    ]);
    r.samples.dispose();
    await useBackend('cpu');
    figs.push(
      await plotSamples(cpuSamples, {
        energy,
        xRange: [-2, 2],
        yRange: [-2, 2],
        resolution: 40,
        title: `${name}: ${Math.round(ms)} ms`,
        width: 300,
        height: 300,
      }),
    );
    cpuSamples.dispose();
  }
  await useBackend(previous);
  if (figs.length > 0) {
    await ctx.figure(
      'backends',
      combineFigures(figs, {
        columns: figs.length,
        title: `${nChains} Langevin chains × ${nSteps} steps on each backend`,
      }),
    );
  }
  energy.dispose();
  return finish(ctx, { nChains, nSteps, backends: timings });
}

mainGuard(import.meta.url, run);
