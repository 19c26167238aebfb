import {
  assertInteger,
  assertKnownOptions,
  assertPositive,
  BaseSampler,
  EbmError,
  type EnergyFunction,
  type HamiltonianSystem,
  type IntegratorSpec,
  type PhaseState,
  type RngKey,
  randomNormal,
  randomUniform,
  resolveIntegrator,
  type SamplerState,
  type Schedulable,
  type StepResult,
  type SymplecticIntegrator,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkMetricShape, type FactoredMetric, factorMetric } from './riemannian-metric.js';

/**
 * A position-dependent metric G(x): positions `[B, D]` → the diagonal of G per row `[B, D]` (all entries > 0),
 * or the full symmetric positive-definite G per row `[B, D, D]`. Must be differentiable in x (tfjs ops).
 */
export type MetricFunction = (x: tf.Tensor2D) => tf.Tensor2D | tf.Tensor3D;

/** Options of {@link RiemannianManifoldHMC}. */
export interface RMHMCOptions {
  /** Step size ε > 0, a number or a scheduler (default 1e-3, TorchEBM's). */
  readonly stepSize?: Schedulable;
  /** Generalised-leapfrog steps per MH step (default 10). */
  readonly nLeapfrogSteps?: number;
  /** Fixed-point iterations of each implicit half step (default 8). */
  readonly solverMaxIter?: number;
  /** A symplectic integrator for non-separable Hamiltonians (default `'generalisedLeapfrog'`). */
  readonly integrator?: IntegratorSpec;
}

/** State of {@link RiemannianManifoldHMC}: positions and their energies. */
export interface RMHMCState extends SamplerState {
  readonly x: tf.Tensor2D;
  readonly energy: tf.Tensor1D;
}

/** Per-step information of {@link RiemannianManifoldHMC} (per chain `[B]`). */
export type RMHMCInfo = {
  /** 1 where the proposal was accepted, else 0. */
  readonly isAccepted: tf.Tensor1D;
  /** min(1, α), 0 for non-finite proposals. */
  readonly acceptanceRate: tf.Tensor1D;
};

const KEYS = ['stepSize', 'nLeapfrogSteps', 'solverMaxIter', 'integrator'];

/**
 * Riemannian-manifold HMC (Girolami & Calderhead 2011; TorchEBM's `RiemannianManifoldHMC`, §3.3) with a
 * position-dependent metric G(x) and the Hamiltonian
 *
 * H(x, p) = U(x) + ½·pᵀG(x)⁻¹p + ½·log|G(x)|,  p ~ N(0, G(x)) (p = L·z, L = chol G),
 *
 * integrated by the generalised (implicit) leapfrog of `@ebm/core` — p½ = p + (ε/2)F(x, p½),
 * x' = x + (ε/2)[G(x)⁻¹ + G(x')⁻¹]p½, p' = p½ + (ε/2)F(x', p½), each implicit equation solved by `solverMaxIter`
 * fixed-point iterations — with F = −∂H/∂x = −∇U − ∂ₓ[½pᵀG⁻¹p + ½log|G|] (∇U from the energy, the metric part by
 * autograd through G), then Metropolis–Hastings with α = exp(H(x, p) − H(x', p')). Non-finite proposals
 * (including a metric that is not positive-definite) are rejected. The generalised leapfrog is symplectic and
 * reversible, so the chain leaves exp(−U) invariant (up to the fixed-point solve's tolerance).
 *
 * Deviations from TorchEBM: no clamping of U, K or Δ (non-finite proposals are rejected instead); states of any
 * dimension; the metric may be diagonal (`[B, D]`) as well as full; step info uses `isAccepted` and
 * `acceptanceRate` = min(1, α).
 *
 * @example
 * ```ts
 * // Neal's funnel with its Fisher metric diag(1/9 + (D−1)/2, e^{−v}, …)
 * const rmhmc = new RiemannianManifoldHMC(funnel, metric, { stepSize: 0.2, nLeapfrogSteps: 8 });
 * ```
 */
export class RiemannianManifoldHMC extends BaseSampler<RMHMCState, RMHMCInfo> {
  readonly metric: MetricFunction;
  readonly nLeapfrogSteps: number;
  readonly solverMaxIter: number;
  readonly integrator: SymplecticIntegrator;

  constructor(energy: EnergyFunction, metric: MetricFunction, options?: RMHMCOptions) {
    super(energy, 'RiemannianManifoldHMC');
    if (typeof metric !== 'function') {
      throw new EbmError('INVALID_PARAM', 'RiemannianManifoldHMC needs a metric function x => G(x).', {
        argument: 'metric',
        value: metric === null ? null : typeof metric,
        fix: 'pass (x) => [B, D] (diagonal of G) or [B, D, D] (full G), differentiable in x.',
      });
    }
    const o = assertKnownOptions('RiemannianManifoldHMC', options, KEYS);
    this.metric = metric;
    this.schedule('stepSize', o.stepSize ?? 1e-3);
    this.nLeapfrogSteps = assertInteger('nLeapfrogSteps', o.nLeapfrogSteps ?? 10, 1);
    this.solverMaxIter = assertInteger('solverMaxIter', o.solverMaxIter ?? 8, 1);
    this.integrator = resolveIntegrator(o.integrator, {
      family: 'symplectic',
      default: 'generalisedLeapfrog',
      owner: 'RiemannianManifoldHMC',
    });
  }

  protected initState(x: tf.Tensor2D, step: number): RMHMCState {
    return { x, energy: this.energy.energy(x, { checkFinite: false }), step };
  }

  /** G(x) factored (validated shape). */
  private factor(x: tf.Tensor2D): FactoredMetric {
    const [b, d] = x.shape;
    return factorMetric(checkMetricShape(this.metric(x), b, d));
  }

  /** H(x, p) = U + ½‖L⁻¹p‖² + ½log|G| `[B]`. */
  private hamiltonian(energy: tf.Tensor1D, g: FactoredMetric, p: tf.Tensor2D): tf.Tensor1D {
    return tf.add(
      tf.add(energy, tf.mul(0.5, tf.sum(tf.square(g.whiten(p)), 1))),
      g.halfLogDet,
    ) as tf.Tensor1D;
  }

  /** The Hamiltonian system for the integrator: F = −∂H/∂x and v = G(x)⁻¹p. */
  system(): HamiltonianSystem {
    return {
      force: (x, p) =>
        tf.tidy(() => {
          const metricPart = tf.grad((q: tf.Tensor) => {
            // tfjs drops the tape without releasing the tensors ops saved for the backward pass when the
            // function throws (e.g. a metric that fails): release this call's saved tensors ourselves.
            const tape = (tf.engine().state as unknown as { activeTape: { saved?: tf.Tensor[] }[] | null })
              .activeTape;
            const start = tape?.length ?? 0;
            try {
              const g = this.factor(q as tf.Tensor2D);
              const k = tf.add(tf.mul(0.5, tf.sum(tf.square(g.whiten(p)), 1)), g.halfLogDet);
              // + 0·Σq keeps the gradient defined when G does not depend on x
              return tf.add(tf.sum(k), tf.mul(0, tf.sum(q)));
            } catch (e) {
              for (const node of tape?.slice(start) ?? []) for (const t of node.saved ?? []) t.dispose();
              throw e;
            }
          })(x);
          const gradU = this.energy.gradient(x, { checkFinite: false });
          return tf.neg(tf.add(gradU, metricPart)) as tf.Tensor2D;
        }),
      velocity: (x, p) => tf.tidy(() => this.factor(x).solve(p)),
    };
  }

  step(state: RMHMCState, key: RngKey): StepResult<RMHMCState, RMHMCInfo> {
    const h = assertPositive('stepSize', this.scheduled('stepSize', state.step));
    const [kMom, kAccept] = splitKey(key, 2) as [RngKey, RngKey];
    const system = this.system();
    const out = tf.tidy(() => {
      const { x } = state;
      const [b, d] = x.shape;
      const g0 = this.factor(x);
      const p0 = g0.colour(randomNormal(kMom, [b, d]) as tf.Tensor2D);
      const h0 = this.hamiltonian(state.energy, g0, p0);
      let ps: PhaseState = { x, p: p0 };
      for (let i = 0; i < this.nLeapfrogSteps; i++) {
        const next = this.integrator.step(ps, system, h, { solverMaxIter: this.solverMaxIter });
        if (ps.x !== x) tf.dispose([ps.x, ps.p]);
        ps = { x: next.x, p: next.p };
      }
      const e1 = this.energy.energy(ps.x, { checkFinite: false });
      const h1 = this.hamiltonian(e1, this.factor(ps.x), ps.p);
      const logAccept = tf.sub(h0, h1);
      const finite = tf.logicalAnd(tf.isFinite(logAccept), tf.isFinite(tf.sum(ps.x, 1)));
      const u = randomUniform(kAccept, [b]);
      const accept = tf.logicalAnd(finite, tf.less(tf.log(u), logAccept)) as tf.Tensor1D;
      const accept2 = tf.tile(tf.reshape(accept, [b, 1]), [1, d]);
      const safeX = tf.where(tf.isFinite(ps.x), ps.x, tf.zerosLike(ps.x));
      const safeE = tf.where(tf.isFinite(e1), e1, tf.zerosLike(e1));
      return {
        x: tf.where(accept2, safeX, x) as tf.Tensor2D,
        energy: tf.where(accept, safeE, state.energy) as tf.Tensor1D,
        isAccepted: tf.cast(accept, 'float32') as tf.Tensor1D,
        acceptanceRate: tf.where(
          finite,
          tf.minimum(1, tf.exp(tf.minimum(logAccept, 0))),
          tf.zerosLike(logAccept),
        ) as tf.Tensor1D,
      };
    });
    return {
      state: { x: out.x, energy: out.energy, step: state.step + 1 },
      info: { isAccepted: out.isAccepted, acceptanceRate: out.acceptanceRate },
    };
  }
}
