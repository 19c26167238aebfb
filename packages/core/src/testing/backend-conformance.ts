import * as tf from '@tensorflow/tfjs-core';
// Types of the chained ops (x.add(y)) that @ebm/core/register installs at run time.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import { useBackend } from '../backend.js';
import { BaseEnergy } from '../energy.js';
import { EbmError } from '../errors.js';
import { randomNormal, runKernel } from '../kernels.js';
import { normalArray, rngKey, uniformArray } from '../rng.js';

class Quadratic extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1));
  }
}

/** One check of {@link runBackendConformance}: its name and whether it passed. */
export interface ConformanceCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol)) return false;
  return true;
}

/**
 * The checks every tfjs backend must pass to run `@ebm/*`: autograd through `BaseEnergy`, `variableGrads`,
 * chained ops (registered by `@ebm/core/register`), the Philox streams of the `randomNormal` / `randomUniform`
 * kernels equal to the host's (normals within 1e-5, uniforms bit-identical), the `langevinStep` kernel
 * (x − h·g + σ√(2h)·ξ), the data kernels `momentumKick`, `positionDrift`, `gradientDescentStep` and
 * `nesterovStep`, and no leaked tensors. Reads with `await t.data()` only, so it runs on webgpu too.
 *
 * A backend plugin runs it on its backend after registering its kernels (so registered implementations are
 * what is checked): `await runBackendConformance('webgpu')`. Throws `TEST_FAILURE` listing every failed check;
 * returns the checks otherwise. The backend must be registered (its package imported) beforehand.
 */
export async function runBackendConformance(backend: string): Promise<ConformanceCheck[]> {
  await useBackend(backend);
  const checks: ConformanceCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) =>
    checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
  const before = tf.memory().numTensors;
  const owned: tf.Tensor[] = [];
  const own = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  try {
    check('active backend', tf.getBackend() === backend, tf.getBackend());
    const x = own(
      tf.tensor2d([
        [1, -2],
        [3, 0.5],
      ]),
    );
    const g = own(new Quadratic({ dim: 2 }).gradient(x, { checkFinite: false }));
    const gd = await g.data();
    check('autograd through BaseEnergy', close(gd, [1, -2, 3, 0.5], 1e-6), `${Array.from(gd)}`);

    const v0 = own(tf.tensor1d([2, 3]));
    const v = tf.variable(v0);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]);
    own(value);
    for (const t of Object.values(grads)) own(t);
    const vg = await grads[v.name]!.data();
    v.dispose();
    check('variableGrads', close(vg, [4, 6], 1e-6), `${Array.from(vg)}`);

    const chained = own(tf.tidy(() => x.add(1).sum()));
    const cd = await chained.data();
    check('chained ops', close(cd, [6.5], 1e-5), `${cd[0]}`);

    const key = rngKey(2026);
    const z = own(randomNormal(key, [64, 3]));
    check(
      'randomNormal matches the host Philox stream',
      close(await z.data(), normalArray(key, [64, 3]), 1e-5),
    );
    const u = own(runKernel('randomUniform', { key, shape: [10] }));
    check('randomUniform is bit-identical to the host', close(await u.data(), uniformArray(key, [10]), 0));

    const noise = own(
      tf.tensor2d([
        [1, 1],
        [-1, 0],
      ]),
    );
    const step = own(runKernel('langevinStep', { x, grad: g, noise, stepSize: 0.5, noiseScale: 1 }));
    const want = [1 - 0.5 + 1, -2 + 1 + 1, 3 - 1.5 - 1, 0.5 - 0.25 + 0];
    const sd = await step.data();
    check('langevinStep = x − h·g + σ√(2h)·ξ', close(sd, want, 1e-4), `${Array.from(sd)}`);

    // The leapfrog and descent data kernels (x = p = q, g as above; c per chain, diagonal M⁻¹).
    const c = own(tf.tensor2d([[0.5], [0.25]]));
    const inv = own(tf.tensor1d([1, 2]));
    const kick = await own(runKernel('momentumKick', { p: x, grad: g, stepSize: c })).data();
    check('momentumKick = p − c·g', close(kick, [0.5, -1, 2.25, 0.375], 1e-5), `${Array.from(kick)}`);
    const drift = await own(runKernel('positionDrift', { q: x, p: g, stepSize: c, invMass: inv })).data();
    check('positionDrift = q + c·M⁻¹p', close(drift, [1.5, -4, 3.75, 0.75], 1e-5), `${Array.from(drift)}`);
    const gdStep = await own(runKernel('gradientDescentStep', { x, grad: g, stepSize: 0.5 })).data();
    check(
      'gradientDescentStep = x − η·g',
      close(gdStep, [0.5, -1, 1.5, 0.25], 1e-5),
      `${Array.from(gdStep)}`,
    );
    const nest = runKernel('nesterovStep', { x, v: noise, grad: g, stepSize: 0.5, momentum: 0.5 });
    own(nest.x);
    own(nest.v);
    const nv = await nest.v.data();
    const nx = await nest.x.data();
    check(
      "nesterovStep: v' = μv − η·g, x' = x + v'",
      close(nv, [0, 1.5, -2, -0.25], 1e-5) && close(nx, [1, -0.5, 1, 0.25], 1e-5),
      `${Array.from(nv)} / ${Array.from(nx)}`,
    );
  } catch (e) {
    check('ran without throwing', false, e instanceof Error ? e.message : String(e));
  } finally {
    tf.dispose(owned);
  }
  const after = tf.memory().numTensors;
  check('no leaked tensors', after === before, `numTensors ${before} → ${after}`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new EbmError(
      'TEST_FAILURE',
      `Backend "${backend}" failed ${failed.length} conformance check(s): ${failed
        .map((c) => `${c.name}${c.detail !== undefined ? ` (${c.detail})` : ''}`)
        .join('; ')}.`,
      { argument: 'backend', value: backend, fix: 'fix the kernels the failed checks name.' },
    );
  }
  return checks;
}
