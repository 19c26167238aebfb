import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertInteger } from '../validation.js';
import type { HamiltonianSystem, PhaseState, SymplecticIntegrator, SymplecticStepOptions } from './types.js';

function velocityOf(system: HamiltonianSystem, x: tf.Tensor2D, p: tf.Tensor2D): tf.Tensor2D {
  if (system.velocity !== undefined) return system.velocity(x, p);
  const m = system.invMass ?? 1;
  return (typeof m === 'number' && m === 1 ? tf.clone(p) : tf.mul(p, m)) as tf.Tensor2D;
}

function checkSystem(system: HamiltonianSystem): void {
  if (system === null || typeof system !== 'object' || typeof system.force !== 'function') {
    throw new EbmError('INVALID_PARAM', 'A symplectic step needs a system with force(x, p).', {
      argument: 'system',
      value: system === null ? null : typeof system,
      fix: 'pass { force: (x) => minus the energy gradient at x, invMass?: 1 } (and velocity for non-separable H).',
    });
  }
}

/**
 * Leapfrog / velocity Verlet for a separable Hamiltonian H = U(x) + ½pᵀM⁻¹p, F = −∇U (TorchEBM §3.2):
 *
 * p½ = p + (h/2)·F(x),  x' = x + h·M⁻¹p½,  p' = p½ + (h/2)·F(x').
 *
 * Symplectic and time-reversible, order 2; two force evaluations per step (the force is not carried between
 * steps, so the step is a pure function of (x, p)). The energy error stays bounded (O(h²)) over long runs.
 */
export function leapfrogStep(
  state: PhaseState,
  system: HamiltonianSystem,
  h: number,
): PhaseState & { nfe: number } {
  checkSystem(system);
  const out = tf.tidy(() => {
    const pHalf = tf.add(state.p, tf.mul(system.force(state.x, state.p), h / 2)) as tf.Tensor2D;
    const x = tf.add(state.x, tf.mul(velocityOf(system, state.x, pHalf), h)) as tf.Tensor2D;
    const p = tf.add(pHalf, tf.mul(system.force(x, pHalf), h / 2)) as tf.Tensor2D;
    return { x, p };
  });
  return { ...out, nfe: 2 };
}

/**
 * Generalised (implicit) leapfrog for a non-separable Hamiltonian H(x, p) (Leimkuhler & Reich; Girolami &
 * Calderhead 2011, RMHMC), with F = −∂H/∂x and v = ∂H/∂p:
 *
 * p½ = p + (h/2)·F(x, p½)               (implicit in p½)
 * x' = x + (h/2)·[v(x, p½) + v(x', p½)] (implicit in x')
 * p' = p½ + (h/2)·F(x', p½)
 *
 * Each implicit equation is solved by `solverMaxIter` fixed-point iterations (default 8; a fixed count, so no
 * host reads). Symplectic, time-reversible, order 2. For a separable H it reduces to leapfrog.
 */
export function generalisedLeapfrogStep(
  state: PhaseState,
  system: HamiltonianSystem,
  h: number,
  options: SymplecticStepOptions = {},
): PhaseState & { nfe: number } {
  checkSystem(system);
  const iters = assertInteger('solverMaxIter', options.solverMaxIter ?? 8, 1);
  const out = tf.tidy(() => {
    const { x, p } = state;
    let pHalf: tf.Tensor2D = p;
    for (let i = 0; i < iters; i++) pHalf = tf.add(p, tf.mul(system.force(x, pHalf), h / 2)) as tf.Tensor2D;
    const v0 = velocityOf(system, x, pHalf);
    let xNew = tf.add(x, tf.mul(v0, h)) as tf.Tensor2D;
    for (let i = 0; i < iters; i++) {
      xNew = tf.add(x, tf.mul(tf.add(v0, velocityOf(system, xNew, pHalf)), h / 2)) as tf.Tensor2D;
    }
    const pNew = tf.add(pHalf, tf.mul(system.force(xNew, pHalf), h / 2)) as tf.Tensor2D;
    return { x: xNew, p: pNew };
  });
  return { ...out, nfe: 2 * iters + 2 };
}

/** The leapfrog integrator (separable Hamiltonians). */
export const LEAPFROG: SymplecticIntegrator = Object.freeze({
  family: 'symplectic' as const,
  name: 'leapfrog',
  order: 2,
  separable: true,
  step: (s: PhaseState, sys: HamiltonianSystem, h: number) => leapfrogStep(s, sys, h),
});

/** The generalised leapfrog integrator (non-separable Hamiltonians). */
export const GENERALISED_LEAPFROG: SymplecticIntegrator = Object.freeze({
  family: 'symplectic' as const,
  name: 'generalisedLeapfrog',
  order: 2,
  separable: false,
  step: generalisedLeapfrogStep,
});
