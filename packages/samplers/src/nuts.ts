import {
  assertInteger,
  assertPositive,
  assertSyncReadable,
  type EnergyFunction,
  foldIn,
  type RngKey,
  randomNormal,
  randomUniform,
  readSync,
  runKernel,
  type StepInfo,
  type StepResult,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type MHInfo,
  type MHOptions,
  type MHParams,
  MHSampler,
  type MHState,
  massFromInverse,
} from './mh-base.js';
import type { PointSet, TransitionResult } from './transitions.js';
import { checkMassDim, invMassTensor, parseOptions, rowSum } from './util.js';

/** Options of {@link NUTS}. */
export interface NUTSOptions extends MHOptions {
  /** Maximum tree depth (default 10: at most 1023 leapfrog steps per MH step). */
  readonly maxTreeDepth?: number;
  /** Energy error H − H₀ above which a trajectory is divergent and stops (default 1000). */
  readonly maxDeltaH?: number;
}

/** Number of set bits. */
function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v >>>= 1) c += v & 1;
  return c;
}

/** Checkpoint indices of leaf n (NumPyro's iterative NUTS): [idxMin, idxMax]. */
export function leafCheckpoints(n: number): [number, number] {
  const idxMax = popcount(n >>> 1);
  let ones = 0;
  for (let v = n; (v & 1) === 1; v >>>= 1) ones++;
  return [idxMax - ones + 1, idxMax];
}

/** Select rows: mask `[B]` bool; a, b `[B]` or `[B, D]`. */
function sel(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank === 1) return tf.where(mask, a, b);
  return tf.tidy(() => tf.where(tf.broadcastTo(tf.reshape(mask, [-1, 1]), a.shape), a, b));
}

/** log(eᵃ + eᵇ), with −∞ handled. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  const mFinite = tf.where(tf.isInf(m), tf.zerosLike(m), m);
  const s = tf.add(mFinite, tf.log(tf.add(tf.exp(tf.sub(a, mFinite)), tf.exp(tf.sub(b, mFinite)))));
  return tf.where(tf.equal(m, Number.NEGATIVE_INFINITY), m, s);
}

/** Generalised U-turn criterion with NumPyro's ρ correction: turning when v·(ρ − (p₁+p₂)/2) ≤ 0 at either end. */
function isTurning(
  invMass: number | tf.Tensor,
  pLeft: tf.Tensor,
  pRight: tf.Tensor,
  rho: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.sub(rho, tf.mul(tf.add(pLeft, pRight), 0.5));
    const left = rowSum(tf.mul(tf.mul(pLeft, invMass), r));
    const right = rowSum(tf.mul(tf.mul(pRight, invMass), r));
    return tf.logicalOr(tf.lessEqual(left, 0), tf.lessEqual(right, 0));
  });
}

/** Owned tensor slots: `set` disposes the previous value. */
class Slots {
  private readonly m = new Map<string, tf.Tensor>();
  get<T extends tf.Tensor = tf.Tensor>(k: string): T {
    return this.m.get(k) as T;
  }
  set(k: string, t: tf.Tensor): void {
    const old = this.m.get(k);
    this.m.set(k, tf.keep(t));
    if (old !== undefined && old !== t) old.dispose();
  }
  take(k: string): tf.Tensor {
    const t = this.m.get(k)!;
    this.m.delete(k);
    return t;
  }
  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    this.m.clear();
  }
}

/** Result of a NUTS transition: the MH fields plus tree statistics. */
export interface NUTSTransitionResult extends TransitionResult {
  /** Tree depth reached per chain `[B]`. */
  readonly treeDepth: tf.Tensor1D;
  /** Leapfrog steps that entered the tree per chain `[B]`. */
  readonly nLeapfrog: tf.Tensor1D;
  /** 1 where the trajectory diverged `[B]`. */
  readonly divergent: tf.Tensor1D;
}

/** Settings of one NUTS transition. */
export interface NUTSSettings {
  readonly stepSize: number;
  readonly invMass: number | tf.Tensor;
  readonly maxTreeDepth: number;
  readonly maxDeltaH: number;
}

/**
 * One multinomial NUTS transition (Hoffman & Gelman 2014 with Betancourt's multinomial sampling and
 * generalised U-turn criterion; the iterative tree building of NumPyro), batched across chains: every chain
 * doubles its trajectory in a random direction per depth level, in lockstep with the others (per-chain signed
 * step sizes through the `momentumKick` / `positionDrift` data kernels); a chain stops on a U-turn (of the whole tree or of any
 * sub-tree of the new half) or a divergence, after which its rows are masked. Within a new half the proposal
 * is drawn by uniform progressive sampling, between halves by biased progressive sampling.
 *
 * Reads one boolean per depth level (whether every chain has stopped): this synchronous form reads it with a
 * guarded sync read (cpu, wasm; `BACKEND_UNAVAILABLE` elsewhere); {@link nutsTransitionAsync} awaits it.
 */
export function nutsTransition(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  settings: NUTSSettings,
): NUTSTransitionResult {
  assertSyncReadable('NUTS step() / sampleSync()', 'await nuts.sample() or nuts.stepAsync()');
  const gen = nutsTree(energy, cur, key, settings);
  try {
    let r = gen.next();
    while (!r.done) {
      const stop = readSync(r.value, 'NUTS step()', 'await nuts.sample() or nuts.stepAsync()')[0] === 1;
      r = gen.next(stop);
    }
    return r.value;
  } catch (e) {
    gen.return(undefined as never);
    throw e;
  }
}

/** {@link nutsTransition} with the per-depth stop check read by `await` (every backend, WebGPU included). */
export async function nutsTransitionAsync(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  settings: NUTSSettings,
): Promise<NUTSTransitionResult> {
  const gen = nutsTree(energy, cur, key, settings);
  try {
    let r = gen.next();
    while (!r.done) {
      const stop = (await r.value.data())[0] === 1;
      r = gen.next(stop);
    }
    return r.value;
  } catch (e) {
    gen.return(undefined as never);
    throw e;
  }
}

/**
 * The tree building as a generator: at each depth level after the first it yields a bool scalar (true when
 * every chain has stopped; the driver reads it and disposes nothing) and resumes with the value read.
 */
function* nutsTree(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  settings: NUTSSettings,
): Generator<tf.Tensor, NUTSTransitionResult, boolean> {
  const { stepSize, invMass, maxTreeDepth, maxDeltaH } = settings;
  const [b] = cur.x.shape;
  const [kMom, kTree] = splitKey(key, 2) as [RngKey, RngKey];
  const s = new Slots();
  const kinetic = (p: tf.Tensor) => tf.mul(0.5, rowSum(tf.mul(tf.square(p), invMass)));
  try {
    const p0 = tf.tidy(() => {
      const z = randomNormal(kMom, cur.x.shape);
      return typeof invMass === 'number' ? tf.mul(z, 1 / Math.sqrt(invMass)) : tf.div(z, tf.sqrt(invMass));
    });
    s.set('p0', p0);
    s.set(
      'H0',
      tf.tidy(() => tf.add(cur.energy, kinetic(p0))),
    );
    for (const side of ['L', 'R']) {
      s.set(`q${side}`, tf.clone(cur.x));
      s.set(`p${side}`, tf.clone(p0));
      s.set(`g${side}`, tf.clone(cur.grad));
    }
    s.set('propX', tf.clone(cur.x));
    s.set('propE', tf.clone(cur.energy));
    s.set('propG', tf.clone(cur.grad));
    s.set('logW', tf.zeros([b]));
    s.set('rho', tf.clone(p0));
    s.set('done', tf.zeros([b], 'bool'));
    s.set('sumAcc', tf.zeros([b]));
    s.set('nLeaf', tf.zeros([b]));
    s.set('depth', tf.zeros([b]));
    s.set('divergent', tf.zeros([b], 'bool'));
    /**
     * One leapfrog leaf through the data kernels: p½ = p − (ε/2)∇E(q), q' = q + ε·M⁻¹p½, then E and ∇E at q'
     * (one pass), p' = p½ − (ε/2)∇E(q'). ε is per chain (`[B, 1]`, signed by the tree direction). Releases its
     * intermediates if the energy throws.
     */
    const leaf = () => {
      const eps = s.get('eps');
      const half = tf.div(eps, 2);
      let pHalf: tf.Tensor2D | undefined;
      let q: tf.Tensor2D | undefined;
      try {
        pHalf = runKernel('momentumKick', {
          p: s.get<tf.Tensor2D>('p'),
          grad: s.get<tf.Tensor2D>('g'),
          stepSize: half,
        });
        q = runKernel('positionDrift', { q: s.get<tf.Tensor2D>('q'), p: pHalf, stepSize: eps, invMass });
        const eg = energy.energyAndGradient(q, { checkFinite: false });
        const p = runKernel('momentumKick', { p: pHalf, grad: eg.gradient, stepSize: half });
        return { q, p, grad: eg.gradient, energy: eg.energy };
      } catch (e) {
        q?.dispose();
        throw e;
      } finally {
        pHalf?.dispose();
        half.dispose();
      }
    };
    for (let j = 0; j < maxTreeDepth; j++) {
      if (j > 0) {
        s.set('all', tf.all(s.get('done')));
        const stop: boolean = yield s.get('all');
        if (stop) break;
      }
      const [kDir, kMerge, kLeaves] = splitKey(foldIn(kTree, j), 3) as [RngKey, RngKey, RngKey];
      const dirPos = tf.tidy(() => tf.less(randomUniform(kDir, [b]), 0.5));
      s.set('dirPos', dirPos);
      s.set('active0', tf.logicalNot(s.get('done')));
      s.set(
        'eps',
        tf.tidy(() => tf.reshape(tf.where(dirPos, tf.fill([b], stepSize), tf.fill([b], -stepSize)), [-1, 1])),
      );
      s.set('q', sel(dirPos, s.get('qR'), s.get('qL')));
      s.set('p', sel(dirPos, s.get('pR'), s.get('pL')));
      s.set('g', sel(dirPos, s.get('gR'), s.get('gL')));
      s.set('subW', tf.fill([b], Number.NEGATIVE_INFINITY));
      s.set('subX', tf.clone(cur.x));
      s.set('subE', tf.clone(cur.energy));
      s.set('subG', tf.clone(cur.grad));
      s.set('subRsum', tf.zerosLike(cur.x));
      s.set('subTurn', tf.zeros([b], 'bool'));
      s.set('subDiv', tf.zeros([b], 'bool'));
      const nLeaves = 2 ** j;
      for (let n = 0; n < nLeaves; n++) {
        const lf = leaf();
        const lfG = lf.grad;
        const eLeaf = lf.energy;
        const live = tf.tidy(() =>
          tf.logicalAnd(s.get('active0'), tf.logicalNot(tf.logicalOr(s.get('subTurn'), s.get('subDiv')))),
        );
        const lw = tf.tidy(() => {
          const raw = tf.sub(s.get('H0'), tf.add(eLeaf, kinetic(lf.p)));
          const finite = tf.logicalNot(tf.logicalOr(tf.isNaN(raw), tf.isInf(raw)));
          return tf.where(finite, raw, tf.fill([b], Number.NEGATIVE_INFINITY));
        });
        const leafDiv = tf.tidy(() => tf.logicalOr(tf.greater(tf.neg(lw), maxDeltaH), tf.isInf(lw)));
        s.set(
          'sumAcc',
          tf.tidy(() => tf.add(s.get('sumAcc'), tf.where(live, tf.exp(tf.minimum(lw, 0)), tf.zerosLike(lw)))),
        );
        s.set(
          'nLeaf',
          tf.tidy(() => tf.add(s.get('nLeaf'), tf.cast(live, 'float32'))),
        );
        const newW = tf.tidy(() => logAddExp(s.get('subW'), lw));
        const take = tf.tidy(() => {
          const u = randomUniform(foldIn(kLeaves, n), [b]);
          return tf.logicalAnd(live, tf.less(tf.log(u), tf.sub(lw, newW)));
        });
        s.set('subX', sel(take, lf.q, s.get('subX')));
        s.set('subE', sel(take, eLeaf, s.get('subE')));
        s.set('subG', sel(take, lfG, s.get('subG')));
        s.set(
          'subW',
          tf.tidy(() => tf.where(live, newW, s.get('subW'))),
        );
        s.set(
          'subRsum',
          tf.tidy(() => sel(live, tf.add(s.get('subRsum'), lf.p), s.get('subRsum'))),
        );
        const [idxMin, idxMax] = leafCheckpoints(n);
        if (n % 2 === 0) {
          s.set(`ckR${idxMax}`, tf.clone(lf.p));
          s.set(`ckS${idxMax}`, tf.clone(s.get('subRsum')));
        } else {
          const turning = tf.tidy(() => {
            let t: tf.Tensor = tf.zeros([b], 'bool');
            for (let i = idxMax; i >= idxMin; i--) {
              const r = s.get(`ckR${i}`);
              const rs = tf.add(tf.sub(s.get('subRsum'), s.get(`ckS${i}`)), r);
              t = tf.logicalOr(t, isTurning(invMass, r, lf.p, rs));
            }
            return tf.logicalAnd(live, t);
          });
          s.set('subTurn', tf.logicalOr(s.get('subTurn'), turning));
          turning.dispose();
        }
        s.set(
          'subDiv',
          tf.tidy(() => tf.logicalOr(s.get('subDiv'), tf.logicalAnd(live, leafDiv))),
        );
        s.set('q', lf.q);
        s.set('p', lf.p);
        s.set('g', lfG);
        tf.dispose([eLeaf, live, lw, leafDiv, newW, take]);
      }
      // Merge the new half into the tree.
      const ok = tf.tidy(() =>
        tf.logicalAnd(s.get('active0'), tf.logicalNot(tf.logicalOr(s.get('subTurn'), s.get('subDiv')))),
      );
      const takeSub = tf.tidy(() => {
        const u = randomUniform(kMerge, [b]);
        return tf.logicalAnd(ok, tf.less(tf.log(u), tf.sub(s.get('subW'), s.get('logW'))));
      });
      s.set('propX', sel(takeSub, s.get('subX'), s.get('propX')));
      s.set('propE', sel(takeSub, s.get('subE'), s.get('propE')));
      s.set('propG', sel(takeSub, s.get('subG'), s.get('propG')));
      s.set(
        'logW',
        tf.tidy(() => tf.where(ok, logAddExp(s.get('logW'), s.get('subW')), s.get('logW'))),
      );
      const right = tf.logicalAnd(ok, s.get('dirPos'));
      const left = tf.tidy(() => tf.logicalAnd(ok, tf.logicalNot(s.get('dirPos'))));
      for (const f of ['q', 'p', 'g']) {
        s.set(`${f}R`, sel(right, s.get(f), s.get(`${f}R`)));
        s.set(`${f}L`, sel(left, s.get(f), s.get(`${f}L`)));
      }
      s.set(
        'rho',
        tf.tidy(() => sel(ok, tf.add(s.get('rho'), s.get('subRsum')), s.get('rho'))),
      );
      const treeTurn = isTurning(invMass, s.get('pL'), s.get('pR'), s.get('rho'));
      s.set(
        'depth',
        tf.tidy(() => tf.where(ok, tf.fill([b], j + 1), s.get('depth'))),
      );
      s.set(
        'divergent',
        tf.tidy(() => tf.logicalOr(s.get('divergent'), tf.logicalAnd(s.get('active0'), s.get('subDiv')))),
      );
      s.set(
        'done',
        tf.tidy(() =>
          tf.logicalOr(
            s.get('done'),
            tf.logicalAnd(s.get('active0'), tf.logicalOr(tf.logicalNot(ok), treeTurn)),
          ),
        ),
      );
      tf.dispose([ok, takeSub, right, left, treeTurn]);
    }
    const x = s.take('propX') as tf.Tensor2D;
    const e = s.take('propE') as tf.Tensor1D;
    const g = s.take('propG') as tf.Tensor2D;
    const accepted = tf.tidy(() => tf.cast(tf.any(tf.notEqual(x, cur.x), 1), 'float32')) as tf.Tensor1D;
    const acceptProb = tf.tidy(() => tf.div(s.get('sumAcc'), tf.maximum(s.get('nLeaf'), 1))) as tf.Tensor1D;
    const treeDepth = s.take('depth') as tf.Tensor1D;
    const nLeapfrog = s.take('nLeaf') as tf.Tensor1D;
    const divergent = tf.cast(s.get('divergent'), 'float32') as tf.Tensor1D;
    return { x, energy: e, grad: g, accepted, acceptProb, treeDepth, nLeapfrog, divergent };
  } finally {
    s.dispose();
  }
}

/**
 * The No-U-Turn Sampler, multinomial variant, batched across chains (see {@link nutsTransition}): no
 * trajectory length to tune, only the step size (use {@link windowAdaptation}, target acceptance ≈ 0.8) and an
 * optional diagonal mass. Step info ({@link NUTSInfo}): `isAccepted` (1 where the chain moved),
 * `acceptanceRate` (mean min(1, e^{H₀−H}) over the tree's leaves, the statistic dual averaging needs; also
 * under the deprecated alias `acceptProb`), `treeDepth`, `nLeapfrog`, `divergent`.
 *
 * @example
 * ```ts
 * const nuts = new NUTS(energy, { stepSize: 0.3 });
 * const r = nuts.sampleSync({ nSamples: 16, dim: 2, nSteps: 500, diagnostics: true });
 * // r.diagnostics.treeDepth: [500] mean depth per kept step
 * ```
 */
/**
 * Step info of {@link NUTS}: the MH fields plus the tree's statistics, per chain `[B]` (open to more fields, like
 * `MHSampler`'s default, so NUTS stays usable wherever an `MHSampler` is expected).
 */
export type NUTSInfo = MHInfo &
  StepInfo & {
    readonly treeDepth: tf.Tensor1D;
    readonly nLeapfrog: tf.Tensor1D;
    readonly divergent: tf.Tensor1D;
  };

export class NUTS extends MHSampler<NUTSInfo> {
  readonly maxTreeDepth: number;
  readonly maxDeltaH: number;
  protected readonly method = 'nuts';

  constructor(energy: EnergyFunction, options?: NUTSOptions) {
    const o = parseOptions('NUTS', options);
    super(energy, 'NUTS', o, 0.1);
    this.maxTreeDepth = assertInteger('maxTreeDepth', o.maxTreeDepth ?? 10, 1, 20);
    this.maxDeltaH = assertPositive('maxDeltaH', o.maxDeltaH ?? 1000);
  }

  withParams(params: MHParams): NUTS {
    return new NUTS(this.energy, {
      stepSize: params.stepSize,
      mass: massFromInverse(params.invMass),
      maxTreeDepth: this.maxTreeDepth,
      maxDeltaH: this.maxDeltaH,
    });
  }

  protected transition(
    state: MHState,
    key: RngKey,
    stepSize: number,
    invMass: number | tf.Tensor,
  ): TransitionResult {
    const r = nutsTransition(this.energy, state, key, {
      stepSize,
      invMass,
      maxTreeDepth: this.maxTreeDepth,
      maxDeltaH: this.maxDeltaH,
    });
    return { ...r, extra: { treeDepth: r.treeDepth, nLeapfrog: r.nLeapfrog, divergent: r.divergent } };
  }

  protected override chainSettings(): Record<string, number> {
    return { maxTreeDepth: this.maxTreeDepth };
  }

  /**
   * {@link NUTS.stepWith} with the per-depth stop check awaited (`nutsTransitionAsync`): runs on every
   * backend, WebGPU in Node included. Same keys, same result as the sync step.
   */
  async stepWithAsync(state: MHState, key: RngKey, params: MHParams): Promise<StepResult<MHState, NUTSInfo>> {
    const h = assertPositive('stepSize', params.stepSize);
    checkMassDim('invMass', params.invMass, state.x.shape[1]);
    const inv = invMassTensor(params.invMass);
    try {
      const r = await nutsTransitionAsync(this.energy, state, key, {
        stepSize: h,
        invMass: inv,
        maxTreeDepth: this.maxTreeDepth,
        maxDeltaH: this.maxDeltaH,
      });
      // Same info as MHSampler.stepWith (keep the two in step).
      return {
        state: { x: r.x, energy: r.energy, grad: r.grad, step: state.step + 1 },
        info: {
          isAccepted: r.accepted,
          acceptanceRate: r.acceptProb,
          acceptProb: r.acceptProb,
          treeDepth: r.treeDepth,
          nLeapfrog: r.nLeapfrog,
          divergent: r.divergent,
        },
      };
    } finally {
      if (typeof inv !== 'number') inv.dispose();
    }
  }

  /** One step with the sampler's own parameters, host reads awaited (core's async loop uses it in `sample()`). */
  stepAsync(state: MHState, key: RngKey): Promise<StepResult<MHState, NUTSInfo>> {
    return this.stepWithAsync(state, key, {
      stepSize: this.scheduled('stepSize', state.step),
      invMass: this.invMass,
    });
  }
}
