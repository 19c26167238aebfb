import type { EnergyFunction, RngKey } from '@ebm/core';
import { randomNormal, runKernel, splitKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { acceptProbability, rowSum, scale } from './util.js';

/**
 * Metropolis–Hastings transitions shared by MALA, HMC and replica exchange. They target the tempered density
 * π_β(x) ∝ exp(−β·E(x)) with a per-row inverse temperature β (a number, or a `[N, 1]` tensor), so a single
 * batched call moves every replica of a temperature ladder. States carry the *untempered* E and ∇E.
 * @module
 */

/** Positions with their (untempered) energies and gradients. */
export interface PointSet {
  readonly x: tf.Tensor2D;
  readonly energy: tf.Tensor1D;
  readonly grad: tf.Tensor2D;
}

/**
 * Result of one MH transition (every tensor new; the input is untouched). The samplers report `accepted` as
 * the step info `isAccepted` and `acceptProb` as `acceptanceRate`.
 */
export interface TransitionResult extends PointSet {
  /** 1 where the proposal was accepted, else 0, `[N]` (step info `isAccepted`). */
  readonly accepted: tf.Tensor1D;
  /** min(1, α) per row (0 for non-finite proposals), `[N]` (step info `acceptanceRate`). */
  readonly acceptProb: tf.Tensor1D;
  /** Further per-row step information (added to the step info). */
  readonly extra?: Readonly<Record<string, tf.Tensor>>;
}

/** Common settings of the transitions. */
export interface TransitionSettings {
  /** Base step size. */
  readonly stepSize: number;
  /** Inverse mass (diagonal preconditioner): a number or a `[D]` tensor. */
  readonly invMass: number | tf.Tensor;
  /** Inverse temperature per row (`[N, 1]`) or 1. */
  readonly beta?: number | tf.Tensor2D;
  /** Per-row multiplier of the step size (`[N, 1]`) or 1. */
  readonly stepScale?: number | tf.Tensor2D;
}

function betaRow(beta: number | tf.Tensor2D): number | tf.Tensor1D {
  return typeof beta === 'number' ? beta : (tf.reshape(beta, [-1]) as tf.Tensor1D);
}

function accept(
  logAccept: tf.Tensor1D,
  cur: PointSet,
  prop: PointSet,
  key: RngKey,
): { selected: tf.Tensor[]; accepted: tf.Tensor1D; acceptProb: tf.Tensor1D } {
  const { selected, accepted } = runKernel('metropolisAccept', {
    logAcceptRatio: logAccept,
    current: [cur.x, cur.energy, cur.grad],
    proposal: [prop.x, prop.energy, prop.grad],
    key,
  });
  return { selected, accepted, acceptProb: acceptProbability(logAccept) };
}

/**
 * One MALA step on π_β with diagonal preconditioner A = M⁻¹ and per-row step h_k = h·s_k:
 * y = x − h_k·A·β∇E(x) + √(2h_k·A)·ξ (through the `langevinStep` kernel), accepted with
 * log α = −β(E(y) − E(x)) − [‖x − y + h_k·A·β∇E(y)‖²_{A⁻¹} − ‖y − x + h_k·A·β∇E(x)‖²_{A⁻¹}] / (4h_k).
 */
export function malaTransition(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  settings: TransitionSettings,
): TransitionResult {
  const { stepSize: h, invMass } = settings;
  const beta = settings.beta ?? 1;
  const s = settings.stepScale ?? 1;
  const [kNoise, kAccept] = splitKey(key, 2) as [RngKey, RngKey];
  const y = tf.tidy(() => {
    const noise = randomNormal(kNoise, cur.x.shape) as tf.Tensor2D;
    const gradIn = scale(scale(scale(cur.grad, beta), s), invMass) as tf.Tensor2D;
    const noiseIn =
      typeof s === 'number' && s === 1 && typeof invMass === 'number' && invMass === 1
        ? noise
        : (tf.mul(noise, tf.sqrt(tf.mul(s, invMass))) as tf.Tensor2D);
    return runKernel('langevinStep', { x: cur.x, grad: gradIn, noise: noiseIn, stepSize: h, noiseScale: 1 });
  });
  let eg: { energy: tf.Tensor1D; gradient: tf.Tensor2D };
  try {
    eg = energy.energyAndGradient(y, { checkFinite: false });
  } catch (e) {
    y.dispose();
    throw e;
  }
  const prop: PointSet = { x: y, energy: eg.energy, grad: eg.gradient };
  const logAccept = tf.tidy(() => {
    const hk = scale(tf.scalar(h), s); // [N,1] or scalar
    const c = tf.mul(hk, invMass); // h_k·A
    const bRow = betaRow(beta);
    const fwd = tf.add(tf.sub(y, cur.x), tf.mul(c, scale(cur.grad, beta))); // y − x + h_k A β g(x)
    const bwd = tf.add(tf.sub(cur.x, y), tf.mul(c, scale(prop.grad, beta))); // x − y + h_k A β g(y)
    const wFwd = rowSum(tf.div(tf.square(fwd), tf.mul(tf.scalar(4), c)));
    const wBwd = rowSum(tf.div(tf.square(bwd), tf.mul(tf.scalar(4), c)));
    const dE = tf.mul(bRow, tf.sub(prop.energy, cur.energy));
    return tf.sub(tf.sub(tf.neg(dE), wBwd), tf.neg(wFwd)) as tf.Tensor1D;
  });
  let r: ReturnType<typeof accept>;
  try {
    r = accept(logAccept, cur, prop, kAccept);
  } finally {
    tf.dispose([y, eg.energy, eg.gradient, logAccept]);
  }
  const [x, e, g] = r.selected as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
  return { x, energy: e, grad: g, accepted: r.accepted, acceptProb: r.acceptProb };
}

/**
 * One HMC step on π_β: p ~ N(0, M), then `nLeapfrog` leapfrog steps of size ε_k = ε·s_k through core's data
 * kernels — `momentumKick` (p ← p − c·β∇E, c = ε_k/2 for the first and last half kicks, c = ε_k for the merged
 * full kicks in between) and `positionDrift` (q ← q + ε_k·M⁻¹p) — with ∇E computed here between them (one
 * gradient per leapfrog step; the last one also returns the energy). Then MH with
 * log α = H(x, p) − H(x', p'), H = β·E + ½·pᵀM⁻¹p. Non-finite proposals are rejected. If the energy throws
 * mid-trajectory, every intermediate tensor is released before the error propagates.
 */
export function hmcTransition(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  settings: TransitionSettings & { readonly nLeapfrog: number },
): TransitionResult {
  const { stepSize, invMass, nLeapfrog } = settings;
  const beta = settings.beta ?? 1;
  const s = settings.stepScale ?? 1;
  const [kMom, kAccept] = splitKey(key, 2) as [RngKey, RngKey];
  /** c·ε·s·β as a number, or a `[N, 1]` tensor when the step scale or β is per row. */
  const coef = (c: number, withBeta: boolean): number | tf.Tensor => {
    const b = withBeta ? beta : 1;
    if (typeof s === 'number' && typeof b === 'number') return c * stepSize * s * b;
    return tf.tidy(() => scale(scale(tf.scalar(c * stepSize), s), b));
  };
  const consts: tf.Tensor[] = [];
  const own = <T extends number | tf.Tensor>(v: T): T => {
    if (typeof v !== 'number') consts.push(v);
    return v;
  };
  // Tensors made here that are not part of the result: released on success and on error (energy throws).
  const held: {
    q: tf.Tensor2D;
    g: tf.Tensor2D;
    p0?: tf.Tensor2D | undefined;
    p?: tf.Tensor2D | undefined;
    e?: tf.Tensor1D | undefined;
  } = { q: cur.x, g: cur.grad };
  const release = () => {
    if (held.q !== cur.x) held.q.dispose();
    if (held.g !== cur.grad) held.g.dispose();
    held.p0?.dispose();
    held.p?.dispose();
    held.e?.dispose();
    tf.dispose(consts);
  };
  try {
    const eps = own(coef(1, false));
    const halfKick = own(coef(0.5, true));
    const fullKick = nLeapfrog > 1 ? own(coef(1, true)) : halfKick;
    const p0 = tf.tidy(() => {
      const z = randomNormal(kMom, cur.x.shape) as tf.Tensor2D;
      return (
        typeof invMass === 'number' ? tf.mul(z, 1 / Math.sqrt(invMass)) : tf.div(z, tf.sqrt(invMass))
      ) as tf.Tensor2D;
    });
    held.p0 = p0;
    let q = cur.x;
    let g = cur.grad;
    let p = runKernel('momentumKick', { p: p0, grad: g, stepSize: halfKick });
    held.p = p;
    let eLast: tf.Tensor1D | undefined;
    for (let i = 0; i < nLeapfrog; i++) {
      q = runKernel('positionDrift', { q, p, stepSize: eps, invMass });
      if (held.q !== cur.x) held.q.dispose();
      held.q = q;
      const last = i === nLeapfrog - 1;
      if (last) {
        const eg = energy.energyAndGradient(q, { checkFinite: false });
        eLast = eg.energy;
        held.e = eLast;
        g = eg.gradient;
      } else {
        g = energy.gradient(q, { checkFinite: false });
      }
      if (held.g !== cur.grad) held.g.dispose();
      held.g = g;
      p = runKernel('momentumKick', { p, grad: g, stepSize: last ? halfKick : fullKick });
      held.p.dispose();
      held.p = p;
    }
    const propEnergy = eLast ?? energy.energy(q, { checkFinite: false });
    held.e = propEnergy;
    const prop: PointSet = { x: q, energy: propEnergy, grad: g };
    const pEnd = p;
    const logAccept = tf.tidy(() => {
      const bRow = betaRow(beta);
      const k0 = tf.mul(0.5, rowSum(scale(tf.square(p0), invMass)));
      const k1 = tf.mul(0.5, rowSum(scale(tf.square(pEnd), invMass)));
      const h0 = tf.add(scale(cur.energy, bRow), k0);
      const h1 = tf.add(scale(prop.energy, bRow), k1);
      return tf.sub(h0, h1) as tf.Tensor1D;
    });
    let r: ReturnType<typeof accept>;
    try {
      r = accept(logAccept, cur, prop, kAccept);
    } finally {
      logAccept.dispose();
    }
    const [x, e, gr] = r.selected as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
    return { x, energy: e, grad: gr, accepted: r.accepted, acceptProb: r.acceptProb };
  } finally {
    release();
  }
}
