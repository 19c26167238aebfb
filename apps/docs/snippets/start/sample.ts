// Sample a double-well energy with MALA in Node (or a browser): 64 chains, 500 steps after 200 of burn-in.
import { disposeSampleResult } from '@ebm/core';
import { DoubleWell } from '@ebm/models';
import { MALA } from '@ebm/samplers';

const energy = new DoubleWell({ barrierHeight: 0.5, b: 1, dim: 2 }); // a low barrier: chains cross it
const sampler = new MALA(energy, { stepSize: 0.1 });
const run = await sampler.sample({
  nSamples: 64,
  dim: 2,
  nSteps: 500,
  burnIn: 200,
  seed: 42,
  diagnostics: { convergence: true }, // per-step acceptance, plus bulk/tail ESS and split-R̂ per dimension
});
const x = await run.samples.data(); // final positions, [64, 2] row-major: always read with await
console.log(run.convergence?.rhat, run.convergence?.essBulk, x.length);
disposeSampleResult(run); // the caller owns every tensor of a result
energy.dispose();

export const result = { rhat: run.convergence?.rhat ?? [], essBulk: run.convergence?.essBulk ?? [] };
