/**
 * The bad-input matrix of @ebm/core: every public entry point that takes user input × NaN, ±∞, negative, zero,
 * non-integer, huge, wrong type, wrong rank / dim / dtype, disposed tensors and unknown option names must give
 * a clear EbmError (expected code, the argument named, a fix) and leave no tensor behind. Exports without user
 * input are listed in EXEMPT with the reason, so a new export cannot be missed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import * as core from '../src/index.js';
import {
  ConstantScheduler,
  CosineInterpolant,
  CosineScheduler,
  ExactOTCoupling,
  ExponentialDecayScheduler,
  energyDistance,
  essBasic,
  essBulk,
  essTail,
  foldIn,
  GreedyCoupling,
  getCoupling,
  getIntegrator,
  getInterpolant,
  hungarianAssignment,
  IndependentCoupling,
  integrate,
  integrateSync,
  LinearInterpolant,
  LinearScheduler,
  MultiStepScheduler,
  mcseMean,
  medianDistance,
  medianPairwiseDistance,
  mmdMulti,
  mmdRbf,
  modeCoverage,
  normalArray,
  normalTensor,
  rhatBasic,
  rngKey,
  SinkhornCoupling,
  schedulerFromJSON,
  splitKey,
  splitRhat,
  splitRhatEss,
  TemperatureScheduler,
  toScheduler,
  UnbalancedSinkhornCoupling,
  uniformArray,
  uniformTensor,
  useBackend,
  VariancePreservingInterpolant,
  WarmupScheduler,
} from '../src/index.js';
import {
  BAD_INPUT_SPECS,
  type BadInputCase,
  badInputCases,
  describeBadInputMatrix,
} from '../src/testing/index.js';

const { positive: pos, nonNegative: nonNeg, real, count, options: opts } = BAD_INPUT_SPECS;
const chains = [
  [0.1, 0.3, -0.2, 0.5, 0.4, -0.1, 0.2, 0.0],
  [0.2, -0.3, 0.1, 0.0, 0.6, -0.4, 0.3, 0.1],
];
const pts = [0, 0, 1, 1, 0.5, -0.5, -1, 0.2];
const key = rngKey(1);
const drift = (x: tf.Tensor2D) => tf.neg(x) as tf.Tensor2D;

const cases: BadInputCase[] = [
  // schedulers
  ...badInputCases('ConstantScheduler', 'startValue', real, (v) => new ConstantScheduler(v as number)),
  ...badInputCases(
    'ExponentialDecayScheduler',
    'startValue',
    real,
    (v) => new ExponentialDecayScheduler(v as number, 0.9),
  ),
  ...badInputCases(
    'ExponentialDecayScheduler',
    'decayRate',
    { type: 'number', min: 'positive', above: 1.5 },
    (v) => new ExponentialDecayScheduler(1, v as number),
  ),
  ...badInputCases(
    'ExponentialDecayScheduler',
    'minValue',
    nonNeg,
    (v) => new ExponentialDecayScheduler(1, 0.9, v as number),
  ),
  ...badInputCases(
    'ExponentialDecayScheduler',
    'options',
    opts,
    (v) => new ExponentialDecayScheduler(v as never),
    {
      skip: ['wrong type'],
    },
  ),
  ...badInputCases('LinearScheduler', 'endValue', real, (v) => new LinearScheduler(1, v as number, 10)),
  ...badInputCases('LinearScheduler', 'nSteps', count, (v) => new LinearScheduler(1, 0, v as number)),
  ...badInputCases('CosineScheduler', 'nSteps', count, (v) => new CosineScheduler(1, 0, v as number)),
  ...badInputCases('CosineScheduler', 'options', opts, (v) => new CosineScheduler(v as never), {
    skip: ['wrong type'],
  }),
  ...badInputCases('MultiStepScheduler', 'gamma', pos, (v) => new MultiStepScheduler(1, [2], v as number)),
  ...badInputCases(
    'MultiStepScheduler',
    'milestones',
    { type: 'object', wrong: [0.5] },
    (v) => new MultiStepScheduler(1, v as number[]),
  ),
  ...badInputCases(
    'WarmupScheduler',
    'warmupSteps',
    { type: 'number', min: 'nonNegative', integer: true },
    (v) => new WarmupScheduler(new ConstantScheduler(1), v as number),
  ),
  ...badInputCases('WarmupScheduler', 'main', { type: 'object' }, (v) => new WarmupScheduler(v as never, 2)),
  ...badInputCases(
    'TemperatureScheduler',
    'epsilonMax',
    nonNeg,
    (v) => new TemperatureScheduler(v as number),
  ),
  ...badInputCases(
    'TemperatureScheduler',
    'tauStar',
    { type: 'number', min: 'nonNegative', above: 1 },
    (v) => new TemperatureScheduler(1, { tauStar: v as number }),
  ),
  ...badInputCases('TemperatureScheduler', 'options', opts, (v) => new TemperatureScheduler(1, v as never)),
  ...badInputCases('toScheduler', 'value', pos, (v) => toScheduler('stepSize', v as number)),
  ...badInputCases('schedulerFromJSON', 'json', { type: 'object' }, (v) => schedulerFromJSON(v as never)),
  ...badInputCases('schedulerFromJSON', 'json.type', { type: 'name' }, (v) =>
    schedulerFromJSON({ type: v as string, config: {}, n: 0 }),
  ),
  ...badInputCases('schedulerFromJSON', 'json.config', opts, (v) =>
    schedulerFromJSON({ type: 'constant', config: v as never, n: 0 }),
  ),
  // random numbers
  ...badInputCases('rngKey', 'seed', { type: 'number', integer: true }, (v) => rngKey(v as number)),
  ...badInputCases('foldIn', 'data', { type: 'number', integer: true, min: 'nonNegative' }, (v) =>
    foldIn(key, v as number),
  ),
  ...badInputCases('foldIn', 'key', { type: 'object' }, (v) => foldIn(v as never, 1)),
  ...badInputCases('splitKey', 'n', { type: 'number', integer: true, min: 'positive', huge: 1e12 }, (v) =>
    splitKey(key, v as number),
  ),
  ...badInputCases('uniformArray', 'shape', { type: 'object', wrong: [2, -1] }, (v) =>
    uniformArray(key, v as number[]),
  ),
  ...badInputCases('uniformArray', 'shape (huge)', { type: 'object', wrong: [1e6, 1e6] }, (v) =>
    uniformArray(key, v as number[]),
  ),
  ...badInputCases('normalArray', 'shape', { type: 'object', wrong: [1.5] }, (v) =>
    normalArray(key, v as number[]),
  ),
  ...badInputCases('normalArray', 'stddev', nonNeg, (v) => normalArray(key, [2], 0, v as number), {
    skip: ['zero'],
  }),
  ...badInputCases('uniformTensor', 'shape', { type: 'object', wrong: [2, Number.NaN] }, (v) =>
    uniformTensor(key, v as number[]),
  ),
  ...badInputCases('normalTensor', 'shape', { type: 'object', wrong: 'abc' }, (v) =>
    normalTensor(key, v as never),
  ),
  // diagnostics
  ...(
    ['essBasic', 'essBulk', 'essTail', 'rhatBasic', 'splitRhat', 'splitRhatEss', 'mcseMean'] as const
  ).flatMap((name) => {
    const f = { essBasic, essBulk, essTail, rhatBasic, splitRhat, splitRhatEss, mcseMean }[name] as (
      c: unknown,
    ) => unknown;
    return [
      ...badInputCases(name, 'chains', { type: 'object', wrong: 'abc' }, (v) => f(v)),
      ...badInputCases(
        name,
        'chains (NaN draw)',
        { type: 'object', wrong: [[...chains[0]!.slice(0, 7), Number.NaN], chains[1]] },
        (v) => f(v),
        {
          codes: { 'wrong type': ['NON_FINITE'] },
        },
      ),
      ...badInputCases(
        name,
        'chains (ragged)',
        { type: 'object', wrong: [chains[0], chains[1]!.slice(0, 5)] },
        (v) => f(v),
        {
          codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] },
        },
      ),
    ];
  }),
  ...badInputCases('mmdRbf', 'dim', count, (v) => mmdRbf(pts, pts, v as number)),
  ...badInputCases(
    'mmdRbf',
    'x',
    { type: 'object', wrong: [0, Number.NaN] },
    (v) => mmdRbf(v as number[], [0, 1], 2),
    {
      codes: { 'wrong type': ['NON_FINITE'] },
    },
  ),
  ...badInputCases('energyDistance', 'dim', count, (v) => energyDistance(pts, pts, v as number)),
  ...badInputCases(
    'energyDistance',
    'y',
    { type: 'object', wrong: [0, 1, 2] },
    (v) => energyDistance(pts, v as number[], 2),
    {
      codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases('medianDistance', 'dim', count, (v) => medianDistance(pts, pts, v as number)),
  ...badInputCases('medianPairwiseDistance', 'dim', count, (v) => medianPairwiseDistance(pts, v as number)),
  ...badInputCases('mmdMulti', 'dim', count, (v) => mmdMulti(pts, pts, v as number)),
  ...badInputCases('modeCoverage', 'dim', count, (v) =>
    modeCoverage(pts, v as number, [[0, 0]], { radius: 1 }),
  ),
  ...badInputCases(
    'modeCoverage',
    'centers',
    { type: 'object', wrong: [[0]] },
    (v) => modeCoverage(pts, 2, v as never, { radius: 1 }),
    {
      codes: { 'wrong type': ['SHAPE_MISMATCH', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases('modeCoverage', 'options', { type: 'options', required: true }, (v) =>
    modeCoverage(pts, 2, [[0, 0]], v as never),
  ),
  ...badInputCases('modeCoverage', 'radius', pos, (v) =>
    modeCoverage(pts, 2, [[0, 0]], { radius: v as number }),
  ),
  ...badInputCases('hungarianAssignment', 'n', count, (v) => hungarianAssignment([1, 2, 3, 4], v as number)),
  ...badInputCases(
    'hungarianAssignment',
    'cost',
    { type: 'object', wrong: [1, Number.NaN, 3, 4] },
    (v) => hungarianAssignment(v as number[], 2),
    { codes: { 'wrong type': ['NON_FINITE', 'INVALID_PARAM'] } },
  ),
  // registries by name
  ...badInputCases('getIntegrator', 'name', { type: 'name' }, (v) => getIntegrator(v as string)),
  ...badInputCases('getInterpolant', 'name', { type: 'name' }, (v) => getInterpolant(v as string)),
  ...badInputCases('getCoupling', 'name', { type: 'name' }, (v) => getCoupling(v as string)),
  ...badInputCases('useBackend', 'name', { type: 'name' }, (v) => useBackend(v as never), {
    codes: { 'unknown name': ['INVALID_PARAM', 'BACKEND_UNAVAILABLE'] },
  }),
  // couplings and interpolants
  ...badInputCases(
    'IndependentCoupling',
    'seed',
    { type: 'number', integer: true },
    (v) => new IndependentCoupling(v as number),
  ),
  ...badInputCases('GreedyCoupling', 'options', opts, (v) => new GreedyCoupling(v as never)),
  ...badInputCases('ExactOTCoupling', 'options', opts, (v) => new ExactOTCoupling(v as never)),
  ...badInputCases('ExactOTCoupling', 'tol', pos, (v) => new ExactOTCoupling({ tol: v as number })),
  ...badInputCases(
    'ExactOTCoupling',
    'method',
    { type: 'name' },
    (v) => new ExactOTCoupling({ method: v as never }),
  ),
  ...badInputCases('SinkhornCoupling', 'options', opts, (v) => new SinkhornCoupling(v as never)),
  ...badInputCases('SinkhornCoupling', 'reg', pos, (v) => new SinkhornCoupling({ reg: v as number })),
  ...badInputCases('SinkhornCoupling', 'nIters', count, (v) => new SinkhornCoupling({ nIters: v as number })),
  ...badInputCases(
    'UnbalancedSinkhornCoupling',
    'regMarginal',
    pos,
    (v) => new UnbalancedSinkhornCoupling({ regMarginal: v as number }),
  ),
  ...badInputCases(
    'UnbalancedSinkhornCoupling',
    'options',
    opts,
    (v) => new UnbalancedSinkhornCoupling(v as never),
  ),
  ...badInputCases(
    'VariancePreservingInterpolant',
    'options',
    opts,
    (v) => new VariancePreservingInterpolant(v as never),
  ),
  ...badInputCases(
    'VariancePreservingInterpolant',
    'sigmaMax',
    pos,
    (v) => new VariancePreservingInterpolant({ sigmaMax: v as number }),
  ),
  ...badInputCases(
    'LinearInterpolant.interpolate',
    't',
    { type: 'tensor', shape: [3], checksDim: false },
    (v) => {
      const x = tf.zeros([3, 2]);
      try {
        return new LinearInterpolant().interpolate(x as tf.Tensor2D, x as tf.Tensor2D, v as tf.Tensor1D);
      } finally {
        x.dispose();
      }
    },
  ),
  ...badInputCases('CosineInterpolant.interpolate', 'x0', { type: 'tensor', shape: [3, 2] }, (v) => {
    const x = tf.zeros([3, 2]);
    const t = tf.zeros([3]);
    try {
      return new CosineInterpolant().interpolate(v as tf.Tensor2D, x as tf.Tensor2D, t as tf.Tensor1D);
    } finally {
      x.dispose();
      t.dispose();
    }
  }),
  // integration
  ...badInputCases('integrateSync', 'x0', { type: 'tensor', shape: [3, 2], checksDim: false }, (v) =>
    integrateSync('euler', drift, v as tf.Tensor2D, { nSteps: 2 }),
  ),
  ...badInputCases('integrate', 'x0', { type: 'tensor', shape: [3, 2], checksDim: false }, (v) =>
    integrate('euler', drift, v as tf.Tensor2D, { nSteps: 2 }),
  ),
  ...badInputCases('integrate', 'nSteps', count, (v) => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    try {
      return integrate('euler', drift, x, { nSteps: v as number });
    } finally {
      x.dispose();
    }
  }),
  ...badInputCases('integrate', 'options', opts, (v) => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    try {
      return integrate('euler', drift, x, v as never);
    } finally {
      x.dispose();
    }
  }),
  ...badInputCases('integrate', 'integrator', { type: 'name' }, (v) => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    try {
      return integrate(v as never, drift, x, { nSteps: 2 });
    } finally {
      x.dispose();
    }
  }),
];

/** Exports without user input to check (constants, types' runtime helpers, abstract bases, the checks themselves). */
const EXEMPT: Record<string, string> = {};
for (const k of Object.keys(core)) {
  const v = (core as Record<string, unknown>)[k];
  if (typeof v !== 'function') EXEMPT[k] = 'a constant';
}
Object.assign(EXEMPT, {
  BaseCoupling: 'abstract base',
  BaseEnergy: 'abstract base (its inputs: see @ebm/models)',
  BaseSampler: 'abstract base (see @ebm/samplers)',
  BaseScheduler: 'abstract base',
  Interpolant: 'abstract base',
  EbmError: 'the error itself',
  RngStream: 'seeded like rngKey',
  ReflowCoupling: 'takes a trained flow map (a function)',
  assertAllocation: 'a check itself',
  assertBatch: 'a check itself',
  assertDiffusionForm: 'a check itself',
  assertFiniteArray: 'a check itself',
  assertFiniteNumber: 'a check itself',
  assertFiniteTensor: 'a check itself',
  assertFiniteTensorAsync: 'a check itself',
  assertInRange: 'a check itself',
  assertInteger: 'a check itself',
  assertKnownOptions: 'a check itself',
  assertLiveState: 'a check itself',
  assertNonNegative: 'a check itself',
  assertOneOf: 'a check itself',
  assertPositive: 'a check itself',
  assertSyncReadable: 'a check itself',
  assertTensor: 'a check itself',
  isEbmError: 'a predicate',
  isRngKey: 'a predicate',
  hasKernel: 'a predicate',
  hasHostEnergy: 'a predicate',
  optionKeys: 'compile-time list helper',
  suggestOption: 'string helper',
  editDistance: 'string helper',
  toCamelCase: 'string helper',
  activeBackend: 'no input',
  availableCores: 'no input',
  listKernels: 'no input',
  mlpUsesSimd: 'no input',
  registerCpuKernels: 'no input',
  terminateChainWorkers: 'no input',
  recommendBackend: 'no input (environment probe)',
  // low-level kernel building blocks: called by samplers/integrators with validated tensors (the matrix of
  // @ebm/samplers covers them through the samplers).
  langevinStepComposite: 'kernel building block',
  // the replay-buffer kernels' building blocks: called by ReplayBuffer (@ebm/losses, whose matrix covers it) and
  // by backend implementations with validated inputs; the kernels' own input checks are tested in @ebm/cuda.
  checkReplayDrawInputs: 'kernel building block (the check itself)',
  checkReplayWriteInputs: 'kernel building block (the check itself)',
  replayDrawComposite: 'kernel building block',
  replayWriteComposite: 'kernel building block',
  replayDrawPlan: 'kernel building block (ReplayBuffer.draw)',
  replayNextPointer: 'kernel building block (ReplayBuffer.push)',
  replayNoise: 'kernel building block (ReplayBuffer.noise)',
  replayReinitThreshold: 'kernel building block (the replay.draw programs)',
  gradientDescentStepComposite: 'kernel building block',
  leapfrogStep: 'kernel building block',
  leapfrogStepComposite: 'kernel building block',
  metropolisAcceptComposite: 'kernel building block',
  momentumKickComposite: 'kernel building block',
  nesterovStepComposite: 'kernel building block',
  positionDriftComposite: 'kernel building block',
  generalisedLeapfrogStep: 'kernel building block',
  rungeKuttaStep: 'kernel building block',
  sdeStep: 'kernel building block',
  langevinStepHost: 'kernel building block',
  runChainHost: 'kernel building block',
  makeHostChainKernel: 'kernel building block',
  makeHostChainTraceKernel: 'kernel building block',
  makeHostEnergy: 'kernel building block',
  tableauIntegrator: 'kernel building block',
  adaptiveIntegrate: 'kernel building block',
  parseAdaptiveOptions: 'kernel building block',
  nfePerStep: 'kernel building block',
  expandTime: 'kernel building block',
  timeFieldDim: 'kernel building block',
  timeFieldFn: 'kernel building block',
  gatherRows: 'kernel building block',
  drawPlanRows: 'kernel building block',
  drawPlanRowsHost: 'kernel building block',
  sinkhornPlan: 'kernel building block',
  sinkhornPlanHost: 'kernel building block',
  auctionAssignment: 'kernel building block',
  greedyAssignment: 'kernel building block',
  assignmentCost: 'kernel building block',
  squaredEuclideanCost: 'kernel building block',
  philox4x32: 'kernel building block',
  bitsToNormal: 'kernel building block',
  bitsToUniform: 'kernel building block',
  randomBits: 'kernel building block',
  randomNormal: 'kernel building block (runKernel)',
  randomUniform: 'kernel building block (runKernel)',
  checkerboardShare: 'kernel building block',
  chainKernelName: 'kernel building block',
  chainTraceKernelName: 'kernel building block',
  chainWorkerCount: 'kernel building block',
  disposeCouplingResult: 'disposal helper',
  disposeSampleResult: 'disposal helper',
  disposeStateExcept: 'disposal helper',
  stateTensors: 'disposal helper',
  readSync: 'host-read helper',
  driveAsync: 'generator driver',
  driveSync: 'generator driver',
  defaultCheckFinite: 'internal default',
  kernelSource: 'registry introspection',
  getKernelImpl: 'registry introspection',
  declareKernel: 'plugin API (kernel registry)',
  registerKernelImpl: 'plugin API (kernel registry)',
  unregisterKernelImpl: 'plugin API (kernel registry)',
  runKernel: 'plugin API (kernel registry)',
  registerSchedulerType: 'plugin API',
  resolveCoupling: 'resolver behind getCoupling (covered)',
  resolveIntegrator: 'resolver behind getIntegrator (covered)',
  resolveInterpolant: 'resolver behind getInterpolant (covered)',
  toKey: 'rngKey (covered) or a key',
  splitChains: 'array helper',
  rankNormalize: 'array helper',
  autocovariance: 'array helper',
  autocorrelation: 'array helper',
  acceptanceRate: 'array helper',
  normalCdf: 'math helper',
  normalQuantile: 'math helper',
  essFromAutocovariance: 'math helper',
  mmdMulti: 'covered',
  serializeState: 'sampler-state helper (see samplers)',
  deserializeState: 'untrusted documents: robustness tests of @ebm/samplers',
  sampleChain: 'drives a kernel: see the samplers matrix',
  sampleChainSync: 'drives a kernel: see the samplers matrix',
  runChainParallel: 'drives a kernel: see the samplers matrix',
  chooseBackend: 'environment probe',
  mmd: 'covered',
});

describeBadInputMatrix({ describe, it }, '@ebm/core', cases, core, EXEMPT, { minCases: 200 });
