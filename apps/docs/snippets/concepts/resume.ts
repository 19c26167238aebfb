// Reproducibility and resume: a run stopped after 100 steps and resumed for 100 more is bit-identical to one
// run of 200 steps with the same seed — also across processes, through saveState / loadState (plain JSON).
import { disposeSampleResult } from '@ebm/core';
import { Banana } from '@ebm/models';
import { MALA } from '@ebm/samplers';

const energy = new Banana({ dim: 2 });
const mala = new MALA(energy, { stepSize: 0.1 });
const whole = await mala.sample({ nSamples: 8, dim: 2, nSteps: 200, seed: 7 });

const first = await mala.sample({ nSamples: 8, dim: 2, nSteps: 100, seed: 7, keepState: true });
const saved = JSON.stringify(await mala.saveState(first.finalState!)); // e.g. to a file or localStorage
const state = mala.loadState(JSON.parse(saved));
const rest = await mala.sample({ resumeFrom: state, nSteps: 100, seed: 7 });

const a = await whole.samples.data();
const b = await rest.samples.data();
const identical = a.every((v, i) => v === b[i]);
console.log({ identical }); // true
mala.disposeState(state);
for (const r of [whole, first, rest]) disposeSampleResult(r);
energy.dispose();

export const result = { identical };
