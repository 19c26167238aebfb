import {
  BaseEnergy,
  BaseSampler,
  type EnergyFunction,
  type RngKey,
  randomNormal,
  runKernel,
  type SamplerState,
  type StepResult,
  splitKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Test-local Gaussian energy with learnable mean and Cholesky-parametrised precision:
 * E(x) = ½ (x − μ)ᵀ P (x − μ), P = L Lᵀ, L lower triangular with diagonal exp(ℓ).
 */
export class GaussianEnergy extends BaseEnergy {
  readonly mu: tf.Variable;
  readonly lower: tf.Variable; // strictly-lower entries used
  readonly logDiag: tf.Variable;
  private readonly mask: tf.Tensor2D;
  private readonly eye: tf.Tensor2D;

  constructor(dim: number, init: { mu?: number[]; logDiag?: number[] } = {}) {
    super({ dim, name: 'GaussianEnergy' });
    this.mu = tf.variable(tf.tensor1d(init.mu ?? new Array(dim).fill(0)));
    this.lower = tf.variable(tf.zeros([dim, dim]));
    this.logDiag = tf.variable(tf.tensor1d(init.logDiag ?? new Array(dim).fill(0)));
    this.mask = tf.keep(tf.linalg.bandPart(tf.ones([dim, dim]), -1, 0).sub(tf.eye(dim)) as tf.Tensor2D);
    this.eye = tf.keep(tf.eye(dim) as tf.Tensor2D);
  }

  get trainableVariables(): tf.Variable[] {
    return [this.mu, this.lower, this.logDiag];
  }

  /** L (lower triangular). */
  choleskyFactor(): tf.Tensor2D {
    return tf.tidy(
      () => tf.add(tf.mul(this.lower, this.mask), tf.mul(this.eye, tf.exp(this.logDiag))) as tf.Tensor2D,
    );
  }

  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const l = this.choleskyFactor();
    const z = tf.matMul(tf.sub(x, this.mu), l);
    return tf.mul(0.5, tf.sum(tf.square(z), 1)) as tf.Tensor1D;
  }

  /** Current precision P = L Lᵀ as nested arrays. */
  precision(): number[][] {
    return tf.tidy(() => {
      const l = this.choleskyFactor();
      return tf.matMul(l, l, false, true).arraySync() as number[][];
    });
  }

  mean(): number[] {
    return this.mu.arraySync() as number[];
  }

  /** log ∫ e^{−E} = (d/2) log 2π − ½ log det P = (d/2) log 2π − Σ ℓ. */
  logNormaliser(): number {
    const ld = this.logDiag.arraySync() as number[];
    return (ld.length / 2) * Math.log(2 * Math.PI) - ld.reduce((a, b) => a + b, 0);
  }

  dispose(): void {
    tf.dispose([this.mu, this.lower, this.logDiag, this.mask, this.eye]);
  }
}

/** E(x) = ½‖x‖² (fixed, no variables). */
export class StandardQuadratic extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D;
  }
}

/** Test-local MLP energy dim → h → h → 1 with SiLU (swish) activations and tf.Variables. */
export class MlpEnergy extends BaseEnergy {
  readonly weights: tf.Variable[];

  constructor(dim: number, hidden: number, seed = 1) {
    super({ dim, name: 'MlpEnergy' });
    const sizes = [dim, hidden, hidden, 1];
    this.weights = [];
    for (let i = 0; i < 3; i++) {
      const [a, b] = [sizes[i]!, sizes[i + 1]!];
      const w = tf.tidy(() => tf.mul(randomNormal([seed, i], [a, b]), Math.sqrt(1 / a)));
      this.weights.push(tf.variable(w), tf.variable(tf.zeros([b])));
      w.dispose();
    }
  }

  get trainableVariables(): tf.Variable[] {
    return this.weights;
  }

  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    let h: tf.Tensor = x;
    for (let i = 0; i < 3; i++) {
      h = tf.add(tf.matMul(h as tf.Tensor2D, this.weights[2 * i]! as tf.Tensor2D), this.weights[2 * i + 1]!);
      if (i < 2) h = tf.mul(h, tf.sigmoid(h));
    }
    return tf.reshape(h, [-1]) as tf.Tensor1D;
  }

  dispose(): void {
    tf.dispose(this.weights);
  }
}

interface MalaState extends SamplerState {
  readonly energy: tf.Tensor1D;
  readonly grad: tf.Tensor2D;
}

/**
 * Test-local Metropolis-adjusted Langevin sampler (exact stationary law, so CD's fixed point is unbiased).
 * `adjust: false` gives unadjusted Langevin (ULA).
 */
export class Mala extends BaseSampler<MalaState> {
  constructor(
    energy: EnergyFunction,
    readonly stepSize: number,
    readonly adjust = true,
  ) {
    super(energy, 'Mala');
  }

  protected initState(x: tf.Tensor2D, step: number): MalaState {
    const { energy, gradient } = this.energy.energyAndGradient(x, { checkFinite: false });
    return { x, step, energy, grad: gradient };
  }

  step(state: MalaState, key: RngKey): StepResult<MalaState> {
    const [kn, ka] = splitKey(key, 2) as [RngKey, RngKey];
    const h = this.stepSize;
    const xp = tf.tidy(() => {
      const noise = randomNormal(kn, state.x.shape);
      return tf.add(tf.sub(state.x, tf.mul(state.grad, h)), tf.mul(noise, Math.sqrt(2 * h))) as tf.Tensor2D;
    });
    const { energy: ep, gradient: gp } = this.energy.energyAndGradient(xp, { checkFinite: false });
    if (!this.adjust) {
      return {
        state: { x: xp, energy: ep, grad: gp, step: state.step + 1 },
        info: {},
      };
    }
    const logA = tf.tidy(() => {
      const fwd = tf.sum(tf.square(tf.add(tf.sub(xp, state.x), tf.mul(state.grad, h))), 1);
      const bwd = tf.sum(tf.square(tf.add(tf.sub(state.x, xp), tf.mul(gp, h))), 1);
      return tf.add(tf.sub(state.energy, ep), tf.div(tf.sub(fwd, bwd), 4 * h)) as tf.Tensor1D;
    });
    const out = runKernel('metropolisAccept', {
      logAcceptRatio: logA,
      current: [state.x, state.energy, state.grad],
      proposal: [xp, ep, gp],
      key: ka,
    });
    tf.dispose([logA, xp, ep, gp]);
    const [x, energy, grad] = out.selected as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
    return { state: { x, energy, grad, step: state.step + 1 }, info: { acceptanceRate: out.accepted } };
  }
}

/** Correlated 2-D Gaussian data N(m, Σ) from a seed. */
export function gaussianData(
  key: RngKey,
  n: number,
  mean: number[],
  cov: number[][],
): { x: tf.Tensor2D; precision: number[][] } {
  const a = cov[0]![0]!;
  const b = cov[0]![1]!;
  const c = cov[1]![1]!;
  const l11 = Math.sqrt(a);
  const l21 = b / l11;
  const l22 = Math.sqrt(c - l21 * l21);
  const x = tf.tidy(() => {
    const z = randomNormal(key, [n, 2]);
    const lt = tf.tensor2d([
      [l11, l21],
      [0, l22],
    ]);
    return tf.add(tf.matMul(z, lt), tf.tensor1d(mean)) as tf.Tensor2D;
  });
  const det = a * c - b * b;
  return {
    x,
    precision: [
      [c / det, -b / det],
      [-b / det, a / det],
    ],
  };
}

/** 2×2 inverse. */
export function inv2(m: number[][]): number[][] {
  const [[a, b], [c, d]] = m as [[number, number], [number, number]];
  const det = a * d - b * c;
  return [
    [d / det, -b / det],
    [-c / det, a / det],
  ];
}

/**
 * Asymptotic standard errors of the Gaussian MLE from n draws:
 * se(μᵢ) = √(Σᵢᵢ/n), se(Pᵢⱼ) = √((Pᵢⱼ² + PᵢᵢPⱼⱼ)/n).
 */
export function mleStandardErrors(cov: number[][], prec: number[][], n: number) {
  return {
    mu: cov.map((row, i) => Math.sqrt(row[i]! / n)),
    prec: prec.map((row, i) => row.map((pij, j) => Math.sqrt((pij * pij + prec[i]![i]! * prec[j]![j]!) / n))),
  };
}

/** E(x)/T for a temperature T. */
export class Tempered implements EnergyFunction {
  readonly name: string;
  readonly dim: number | undefined;
  constructor(
    readonly base: EnergyFunction,
    readonly temperature: number,
  ) {
    this.name = `${base.name}/T${temperature}`;
    this.dim = base.dim;
  }
  energy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(
      () => tf.div(this.base.energy(x, { checkFinite: false }), this.temperature) as tf.Tensor1D,
    );
  }
  gradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(
      () => tf.div(this.base.gradient(x, { checkFinite: false }), this.temperature) as tf.Tensor2D,
    );
  }
  energyAndGradient(x: tf.Tensor2D) {
    return { energy: this.energy(x), gradient: this.gradient(x) };
  }
}

interface PtState extends SamplerState {
  readonly hot: tf.Tensor2D[];
}

/**
 * Test-local replica-exchange sampler: one MALA step per temperature, then a swap proposal between a random
 * adjacent pair. `samples` (state.x) is the coldest chain (T = temperatures[0] = 1); hotter replicas start
 * at x0 and stay internal.
 */
export class ReplicaExchange extends BaseSampler<PtState> {
  private readonly malas: Mala[];
  constructor(
    energy: EnergyFunction,
    stepSize: number,
    readonly temperatures: number[],
  ) {
    super(energy, 'ReplicaExchange');
    this.malas = temperatures.map((t) => new Mala(new Tempered(energy, t), stepSize * t));
  }

  protected initState(x: tf.Tensor2D, step: number): PtState {
    return { x, step, hot: this.temperatures.slice(1).map(() => tf.clone(x)) };
  }

  step(state: PtState, key: RngKey): StepResult<PtState> {
    const keys = splitKey(key, this.temperatures.length + 2);
    const moved = [state.x, ...state.hot].map((xi, i) => {
      const s0 = this.malas[i]!.init(xi);
      const { state: s1, info } = this.malas[i]!.step(s0, keys[i]!);
      this.malas[i]!.disposeState(s0);
      tf.dispose(Object.values(info));
      tf.dispose([s1.energy, s1.grad]);
      return s1.x;
    });
    const nT = this.temperatures.length;
    const j = Math.min(nT - 2, Math.floor(uniformArray(keys[nT]!, [1])[0]! * (nT - 1)));
    const tj = this.temperatures[j]!;
    const tj1 = this.temperatures[j + 1]!;
    const logA = tf.tidy(() => {
      const ej = this.energy.energy(moved[j]!, { checkFinite: false });
      const ej1 = this.energy.energy(moved[j + 1]!, { checkFinite: false });
      return tf.mul(tf.sub(ej, ej1), 1 / tj - 1 / tj1) as tf.Tensor1D;
    });
    const out = runKernel('metropolisAccept', {
      logAcceptRatio: logA,
      current: [moved[j]!, moved[j + 1]!],
      proposal: [moved[j + 1]!, moved[j]!],
      key: keys[nT + 1]!,
    });
    logA.dispose();
    tf.dispose([moved[j]!, moved[j + 1]!]);
    moved[j] = out.selected[0] as tf.Tensor2D;
    moved[j + 1] = out.selected[1] as tf.Tensor2D;
    return {
      state: { x: moved[0]!, hot: moved.slice(1), step: state.step + 1 },
      info: { swapRate: out.accepted },
    };
  }
}

/** A metric scalar read synchronously (cpu tests only; library code reads with `await`). */
export function num(t: tf.Tensor | number | undefined): number {
  if (typeof t === 'number') return t;
  if (t === undefined) throw new Error('metric missing');
  return t.dataSync()[0]!;
}
