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

/** Result of one MH transition (every tensor new; the input is untouched). */
export interface TransitionResult extends PointSet {
  /** 1 where the proposal was accepted, `[N]`. */
  readonly accepted: tf.Tensor1D;
  /** min(1, α) per row (0 for non-finite proposals), `[N]`. */
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
  const eg = energy.energyAndGradient(y, { checkFinite: false });
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
  const r = accept(logAccept, cur, prop, kAccept);
  tf.dispose([y, eg.energy, eg.gradient, logAccept]);
  const [x, e, g] = r.selected as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
  return { x, energy: e, grad: g, accepted: r.accepted, acceptProb: r.acceptProb };
}

/**
 * One HMC step on π_β: p ~ N(0, M), `nLeapfrog` steps of the `leapfrogStep` kernel with the force reused
 * between steps (one gradient per step; the last one also returns the energy), then MH with
 * log α = H(x, p) − H(x', p'), H = β·E + ½·pᵀM⁻¹p. Non-finite proposals are rejected.
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
  const eps: number | tf.Tensor = typeof s === 'number' ? stepSize * s : tf.mul(s, stepSize);
  const p0 = tf.tidy(() => {
    const z = randomNormal(kMom, cur.x.shape) as tf.Tensor2D;
    return (
      typeof invMass === 'number' ? tf.mul(z, 1 / Math.sqrt(invMass)) : tf.div(z, tf.sqrt(invMass))
    ) as tf.Tensor2D;
  });
  let calls = 0;
  let lastEnergy: tf.Tensor1D | undefined;
  let lastRawGrad: tf.Tensor2D | undefined;
  const gradient = (q: tf.Tensor2D): tf.Tensor2D => {
    calls++;
    let raw: tf.Tensor2D;
    if (calls === nLeapfrog) {
      const eg = energy.energyAndGradient(q, { checkFinite: false });
      lastEnergy?.dispose();
      lastEnergy = eg.energy;
      raw = eg.gradient;
    } else {
      raw = energy.gradient(q, { checkFinite: false });
    }
    if (typeof beta === 'number' && beta === 1) return raw;
    const scaled = tf.mul(raw, beta) as tf.Tensor2D;
    if (calls === nLeapfrog) {
      lastRawGrad?.dispose();
      lastRawGrad = raw;
    } else raw.dispose();
    return scaled;
  };
  const g0 = typeof beta === 'number' && beta === 1 ? cur.grad : (tf.mul(cur.grad, beta) as tf.Tensor2D);
  let q = cur.x;
  let p = p0;
  let g = g0;
  for (let i = 0; i < nLeapfrog; i++) {
    const out = runKernel('leapfrogStep', { q, p, grad: g, stepSize: eps, invMass, gradient });
    if (q !== cur.x) q.dispose();
    if (p !== p0) p.dispose();
    if (g !== cur.grad && g !== out.grad) g.dispose();
    q = out.q;
    p = out.p;
    g = out.grad;
  }
  if (typeof eps !== 'number') eps.dispose();
  let propEnergy = lastEnergy;
  if (propEnergy === undefined) propEnergy = energy.energy(q, { checkFinite: false });
  let propGrad: tf.Tensor2D;
  if (typeof beta === 'number' && beta === 1) propGrad = g;
  else {
    propGrad = lastRawGrad ?? (tf.div(g, beta) as tf.Tensor2D);
    if (propGrad !== g) g.dispose();
  }
  const prop: PointSet = { x: q, energy: propEnergy, grad: propGrad };
  const logAccept = tf.tidy(() => {
    const bRow = betaRow(beta);
    const k0 = tf.mul(0.5, rowSum(tf.mul(tf.square(p0), invMass)));
    const k1 = tf.mul(0.5, rowSum(tf.mul(tf.square(p), invMass)));
    const h0 = tf.add(tf.mul(bRow, cur.energy), k0);
    const h1 = tf.add(tf.mul(bRow, prop.energy), k1);
    return tf.sub(h0, h1) as tf.Tensor1D;
  });
  const r = accept(logAccept, cur, prop, kAccept);
  tf.dispose([p0, p, logAccept]);
  if (q !== cur.x) q.dispose();
  propEnergy.dispose();
  if (propGrad !== cur.grad) propGrad.dispose();
  const [x, e, gr] = r.selected as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
  return { x, energy: e, grad: gr, accepted: r.accepted, acceptProb: r.acceptProb };
}
