/**
 * The bad-input matrix of @ebm/models: every exported energy's constructor options and its evaluation methods
 * (energy / gradient / energyAndGradient) × the classic bad values must give a clear EbmError and leave no
 * tensor behind (see `badInputCases` in @ebm/core/testing).
 */
import type { EnergyFunction } from '@ebm/core';
import { BAD_INPUT_SPECS, type BadInputCase, badInputCases, describeBadInputMatrix } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, it } from 'vitest';
import * as models from '../src/index.js';
import {
  Ackley,
  artifactFromJSON,
  Banana,
  base64ToBytes,
  ConvEnergy,
  DoubleWell,
  EqMEnergy,
  energyFromFunction,
  Funnel,
  Gaussian,
  GaussianMixture,
  Harmonic,
  InteractionModel,
  ManyWell,
  MLPEnergy,
  Rastrigin,
  Rosenbrock,
  restoreEnergy,
  sinusoidalEmbedding,
  TimeConditionedMLP,
} from '../src/index.js';

const { positive: pos, real, options: opts } = BAD_INPUT_SPECS;
const dimSpec = { type: 'number', min: 'positive', integer: true, huge: 1e9 } as const;

const made: { dispose?: () => void }[] = [];
function keep<T>(x: T): T {
  made.push(x as { dispose?: () => void });
  return x;
}
afterAll(() => {
  for (const m of made) m.dispose?.();
});

/** energy / gradient / energyAndGradient of `e` (dimension `d`) with a bad batch. */
function evalCases(name: string, e: EnergyFunction, d: number): BadInputCase[] {
  const x = { type: 'tensor', shape: [3, d], nonEmpty: true } as const;
  return [
    ...badInputCases(`${name}.energy`, 'x', x, (v) => e.energy(v as tf.Tensor2D)),
    ...badInputCases(`${name}.gradient`, 'x', x, (v) => e.gradient(v as tf.Tensor2D)),
    ...badInputCases(`${name}.energyAndGradient`, 'x', x, (v) => e.energyAndGradient(v as tf.Tensor2D)),
  ];
}

const field = keep(new TimeConditionedMLP({ dim: 2, widths: [8], seed: 1 }));
const cases: BadInputCase[] = [
  // analytic energies
  ...badInputCases('DoubleWell', 'options', opts, (v) => new DoubleWell(v as never)),
  ...badInputCases('DoubleWell', 'barrierHeight', pos, (v) => new DoubleWell({ barrierHeight: v as number })),
  ...badInputCases('DoubleWell', 'dim', dimSpec, (v) => new DoubleWell({ dim: v as number })),
  ...evalCases('DoubleWell', keep(new DoubleWell({ dim: 2 })), 2),
  ...badInputCases('Harmonic', 'options', opts, (v) => new Harmonic(v as never)),
  ...badInputCases('Harmonic', 'k', pos, (v) => new Harmonic({ k: v as number })),
  ...badInputCases('Harmonic', 'dim', dimSpec, (v) => new Harmonic({ dim: v as number })),
  ...evalCases('Harmonic', keep(new Harmonic({ dim: 3 })), 3),
  ...badInputCases('Rosenbrock', 'options', opts, (v) => new Rosenbrock(v as never)),
  ...badInputCases('Rosenbrock', 'a', real, (v) => new Rosenbrock({ a: v as number })),
  ...badInputCases('Rosenbrock', 'b', pos, (v) => new Rosenbrock({ b: v as number })),
  ...badInputCases('Rosenbrock', 'dim', { ...dimSpec }, (v) => new Rosenbrock({ dim: v as number }), {
    codes: { zero: ['INVALID_PARAM'] },
  }),
  ...evalCases('Rosenbrock', keep(new Rosenbrock({ dim: 2 })), 2),
  ...badInputCases('Ackley', 'options', opts, (v) => new Ackley(v as never)),
  ...badInputCases('Ackley', 'dim', dimSpec, (v) => new Ackley({ dim: v as number })),
  ...evalCases('Ackley', keep(new Ackley({ dim: 2 })), 2),
  ...badInputCases('Rastrigin', 'options', opts, (v) => new Rastrigin(v as never)),
  ...badInputCases('Rastrigin', 'dim', dimSpec, (v) => new Rastrigin({ dim: v as number })),
  ...badInputCases('Funnel', 'options', opts, (v) => new Funnel(v as never)),
  ...badInputCases('Funnel', 'scale', pos, (v) => new Funnel({ scale: v as number })),
  ...badInputCases('Funnel', 'dim', { ...dimSpec }, (v) => new Funnel({ dim: v as number })),
  ...evalCases('Funnel', keep(new Funnel({ dim: 3 })), 3),
  ...badInputCases('Banana', 'options', opts, (v) => new Banana(v as never)),
  ...badInputCases('Banana', 'curvature', real, (v) => new Banana({ curvature: v as number })),
  ...badInputCases('ManyWell', 'options', opts, (v) => new ManyWell(v as never)),
  ...badInputCases(
    'ManyWell',
    'dim',
    { type: 'object', wrong: 3 },
    (v) => new ManyWell({ dim: v as number }),
  ),
  ...badInputCases(
    'Gaussian',
    'options',
    { type: 'options', required: true },
    (v) => new Gaussian(v as never),
  ),
  ...badInputCases(
    'Gaussian',
    'mean',
    { type: 'object', wrong: [0, Number.NaN] },
    (v) => new Gaussian({ mean: v as number[] }),
    {
      codes: { 'wrong type': ['NON_FINITE', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases(
    'Gaussian',
    'covariance',
    {
      type: 'object',
      wrong: [
        [1, 0],
        [0, -1],
      ],
    },
    (v) => new Gaussian({ mean: [0, 0], covariance: v as number[][] }),
  ),
  ...badInputCases(
    'Gaussian',
    'covariance (wrong size)',
    { type: 'object', wrong: [[1]] },
    (v) => new Gaussian({ mean: [0, 0], covariance: v as number[][] }),
    { codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] } },
  ),
  ...evalCases('Gaussian', keep(new Gaussian({ mean: [0, 0] })), 2),
  ...badInputCases(
    'GaussianMixture',
    'options',
    { type: 'options', required: true },
    (v) => new GaussianMixture(v as never),
  ),
  ...badInputCases(
    'GaussianMixture',
    'means',
    { type: 'object', wrong: [] },
    (v) => new GaussianMixture({ means: v as number[][] }),
  ),
  ...badInputCases(
    'GaussianMixture',
    'weights',
    { type: 'object', wrong: [-1, 2] },
    (v) => new GaussianMixture({ means: [[0], [1]], weights: v as number[] }),
  ),
  ...badInputCases(
    'GaussianMixture',
    'std',
    pos,
    (v) => new GaussianMixture({ means: [[0], [1]], std: v as number }),
  ),
  ...evalCases(
    'GaussianMixture',
    keep(
      new GaussianMixture({
        means: [
          [0, 0],
          [1, 1],
        ],
      }),
    ),
    2,
  ),
  // neural energies
  ...badInputCases(
    'MLPEnergy',
    'options',
    { type: 'options', required: true },
    (v) => new MLPEnergy(v as never),
  ),
  ...badInputCases('MLPEnergy', 'inputDim', dimSpec, (v) => new MLPEnergy({ inputDim: v as number })),
  ...badInputCases(
    'MLPEnergy',
    'widths',
    { type: 'object', wrong: [8, 0] },
    (v) => new MLPEnergy({ inputDim: 2, widths: v as number[] }),
  ),
  ...badInputCases(
    'MLPEnergy',
    'widths (huge)',
    { type: 'object', wrong: [1e6, 1e6] },
    (v) => new MLPEnergy({ inputDim: 2, widths: v as number[] }),
  ),
  ...badInputCases(
    'MLPEnergy',
    'activation',
    { type: 'name' },
    (v) => new MLPEnergy({ inputDim: 2, activation: v as never }),
  ),
  ...badInputCases(
    'MLPEnergy',
    'seed',
    { type: 'object', wrong: 'x' },
    (v) => new MLPEnergy({ inputDim: 2, seed: v as number }),
  ),
  ...evalCases('MLPEnergy', keep(new MLPEnergy({ inputDim: 2, widths: [8], seed: 1 })), 2),
  ...badInputCases(
    'ConvEnergy',
    'options',
    { type: 'options', required: true },
    (v) => new ConvEnergy(v as never),
  ),
  ...badInputCases(
    'ConvEnergy',
    'inputShape',
    { type: 'object', wrong: [4, 4] },
    (v) => new ConvEnergy({ inputShape: v as never }),
    {
      codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases(
    'ConvEnergy',
    'kernelSize',
    { type: 'number', min: 'positive', integer: true },
    (v) => new ConvEnergy({ inputShape: [4, 4, 1], kernelSize: v as number }),
  ),
  ...badInputCases(
    'TimeConditionedMLP',
    'options',
    { type: 'options', required: true },
    (v) => new TimeConditionedMLP(v as never),
  ),
  ...badInputCases('TimeConditionedMLP', 'dim', dimSpec, (v) => new TimeConditionedMLP({ dim: v as number })),
  ...badInputCases(
    'TimeConditionedMLP',
    'timeEmbedDim',
    { type: 'number', min: 'positive', integer: true },
    (v) => new TimeConditionedMLP({ dim: 2, timeEmbedDim: v as number }),
  ),
  ...badInputCases('energyFromFunction', 'fn', { type: 'object', wrong: 'x' }, (v) =>
    energyFromFunction(v as never),
  ),
  ...badInputCases('energyFromFunction', 'options', opts, (v) =>
    energyFromFunction((x) => tf.sum(x, 1) as tf.Tensor1D, v as never),
  ),
  ...badInputCases('energyFromFunction', 'dim', { type: 'number', min: 'positive', integer: true }, (v) =>
    energyFromFunction((x) => tf.sum(x, 1) as tf.Tensor1D, { dim: v as number }),
  ),
  ...badInputCases(
    'InteractionModel',
    'base',
    { type: 'object' },
    (v) => new InteractionModel(v as never, { sigmaW: 1 }),
  ),
  ...badInputCases(
    'InteractionModel',
    'sigmaW',
    pos,
    (v) => new InteractionModel(keep(new Harmonic({ dim: 2 })), { sigmaW: v as number }),
  ),
  ...badInputCases(
    'InteractionModel',
    'options',
    { type: 'options', required: true },
    (v) => new InteractionModel(keep(new Harmonic({ dim: 2 })), v as never),
  ),
  ...badInputCases('EqMEnergy', 'field', { type: 'object' }, (v) => new EqMEnergy(v as never)),
  ...badInputCases('EqMEnergy', 'options', opts, (v) => new EqMEnergy(field, v as never)),
  ...badInputCases(
    'EqMEnergy',
    'energyType',
    { type: 'name' },
    (v) => new EqMEnergy(field, { energyType: v as never }),
  ),
  ...badInputCases('sinusoidalEmbedding', 't', { type: 'tensor', shape: [3], checksDim: false }, (v) =>
    sinusoidalEmbedding(v as tf.Tensor1D, 8),
  ),
  ...badInputCases('sinusoidalEmbedding', 'size', { type: 'number', min: 'positive', integer: true }, (v) => {
    const t = tf.zeros([3]) as tf.Tensor1D;
    try {
      return sinusoidalEmbedding(t, v as number);
    } finally {
      t.dispose();
    }
  }),
  // untrusted documents
  ...badInputCases('restoreEnergy', 'source', { type: 'object', wrong: 5 }, (v) => restoreEnergy(v as never)),
  ...badInputCases('restoreEnergy', 'source (bad JSON)', { type: 'object', wrong: '{"format": 1' }, (v) =>
    restoreEnergy(v as never),
  ),
  ...badInputCases(
    'restoreEnergy',
    'source (wrong document)',
    { type: 'object', wrong: { version: 1 } },
    (v) => restoreEnergy(v as never),
  ),
  ...badInputCases('artifactFromJSON', 'json', { type: 'object', wrong: '[]' }, (v) =>
    artifactFromJSON(v as never),
  ),
  ...badInputCases('base64ToBytes', 's', { type: 'object', wrong: '@@@' }, (v) => base64ToBytes(v as string)),
];

const EXEMPT: Record<string, string> = {
  ACTIVATIONS: 'a constant',
  activations:
    'an object of elementwise tfjs ops (exact higher-order gradients); tensors in, checked by tfjs as tf.sigmoid is',
  AnalyticEnergy: 'abstract base',
  NeuralEnergy: 'abstract base',
  artifactToJSON: 'serialises an artifact the library made',
  bytesToBase64: 'encodes bytes (any Uint8Array is valid)',
  assertLayoutSize: 'a check itself',
  validateArtifact: 'a check itself (restoreEnergy covers it)',
  mlpLayout: 'layout of validated options (MLPEnergy covers it)',
  convLayout: 'layout of validated options (ConvEnergy covers it)',
};

describeBadInputMatrix({ describe, it }, '@ebm/models', cases, models, EXEMPT);
