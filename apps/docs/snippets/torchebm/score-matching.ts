// TorchEBM: DenoisingScoreMatching(model, noise_scale=0.1); SlicedScoreMatching(model, n_projections=5)
import { twoMoons } from '@ebm/datasets';
import { DenoisingScoreMatching, readMetrics, SlicedScoreMatching } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

const energy = new MLPEnergy({ inputDim: 2, widths: [32, 32], seed: 0 });
// correct sign: trains E ≈ −log p (TorchEBM ≤ 0.7.11 trained +log p, issue #318)
const dsm = new DenoisingScoreMatching(energy, { sigma: 0.1, seed: 0 });
const ssm = new SlicedScoreMatching(energy, { nProjections: 5, projection: 'rademacher', seed: 0 });
const x = twoMoons({ nSamples: 128, seed: 0 }).toTensor();
const a = dsm.compute(x);
const b = ssm.compute(x);
// metrics are scalar tensors ({ loss, … }, the caller's); read them in one go, and free them
const dsmMetrics = await readMetrics(a.metrics, { dispose: true });
const ssmMetrics = await readMetrics(b.metrics, { dispose: true });
console.log(dsmMetrics, ssmMetrics);
tf.dispose([x, a.loss, b.loss]);
energy.dispose();

export const result = { dsm: dsmMetrics, ssm: ssmMetrics };
