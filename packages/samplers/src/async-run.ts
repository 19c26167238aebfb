import {
  assertBatch,
  assertInteger,
  type ConvergenceSummary,
  EbmError,
  foldIn,
  type RngKey,
  randomNormal,
  type SampleOptions,
  type SampleResult,
  type SamplerState,
  type StepResult,
  splitRhatEss,
  stateTensors,
  toKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** What {@link runAsync} needs of a sampler: `init`, an async step, and state disposal. */
export interface AsyncSteppable<S extends SamplerState> {
  readonly name: string;
  readonly energy: { readonly dim?: number | undefined };
  init(x0: tf.Tensor2D, step?: number): S;
  stepAsync(state: S, key: RngKey): Promise<StepResult<S>>;
  disposeState(state: S): void;
}

/**
 * A sampling run driven by an async step (every host read awaited), for samplers whose step must read the
 * device (NUTS's per-depth stop check) on a backend without synchronous reads (WebGPU in Node). Same keys,
 * initial states and results as core's run loop (`x0 ~ N(0, I)` from `foldIn(runKey, MAX_SAFE_INTEGER)`, step
 * key `foldIn(runKey, state.step)`); records `trajectory` fields (`x`, `energy`, info keys), `diagnostics`
 * (chain means of x, its variance, energy and info) and convergence.
 *
 * Interim: core's run loop is gaining async steps (issue 10); this goes once it has landed.
 */
export async function runAsync<S extends SamplerState & { energy?: tf.Tensor1D }>(
  sampler: AsyncSteppable<S>,
  options: SampleOptions,
): Promise<SampleResult<S>> {
  if (options === null || typeof options !== 'object') {
    throw new EbmError('INVALID_PARAM', 'sample() needs an options object.', {
      argument: 'options',
      value: options,
      fix: 'pass e.g. { nSamples: 100, dim: 2, nSteps: 500 }.',
    });
  }
  const nSteps = assertInteger('nSteps', options.nSteps, 1);
  const thin = assertInteger('thin', options.thin ?? 1, 1);
  const burnIn = assertInteger('burnIn', options.burnIn ?? 0, 0);
  const runKey = toKey(options.seed ?? 0, 'seed');
  const total = burnIn + nSteps;
  const progressEvery = assertInteger(
    'progressEvery',
    options.progressEvery ?? Math.max(1, Math.floor(total / 100)),
    1,
  );
  const trajFields =
    options.trajectory === true
      ? ['x']
      : options.trajectory && typeof options.trajectory === 'object'
        ? [...options.trajectory.fields]
        : [];
  const wantDiag = options.diagnostics !== undefined && options.diagnostics !== false;
  const wantConv = typeof options.diagnostics === 'object' && options.diagnostics.convergence === true;
  if (wantConv && Math.floor(nSteps / thin) < 8) {
    throw new EbmError('INVALID_PARAM', 'Convergence diagnostics need at least 8 kept states.', {
      argument: 'diagnostics.convergence',
      value: Math.floor(nSteps / thin),
      fix: 'raise nSteps (or lower thin) so that floor(nSteps / thin) >= 8, or drop convergence.',
    });
  }
  const checkAbort = () => {
    if (options.signal?.aborted) {
      throw new EbmError('ABORTED', `${sampler.name} run aborted.`, {
        argument: 'signal',
        fix: 'do not abort the signal, or catch the ABORTED error.',
        cause: options.signal.reason,
      });
    }
  };
  checkAbort();
  const records = new Map<string, tf.Tensor[]>();
  const push = (k: string, t: tf.Tensor) => {
    const a = records.get(k) ?? [];
    a.push(t);
    records.set(k, a);
  };
  const started = Date.now();
  let state: S | undefined;
  try {
    state = initialState(sampler, options, runKey);
    for (let i = 1; i <= total; i++) {
      checkAbort();
      const { state: next, info } = await sampler.stepAsync(state, foldIn(runKey, state.step));
      const keepT = new Set(stateTensors(next));
      for (const t of stateTensors(state)) if (!keepT.has(t)) t.dispose();
      state = next;
      if (i > burnIn && (i - burnIn) % thin === 0) {
        const s = state;
        for (const f of trajFields) {
          const src = f === 'x' ? s.x : f === 'energy' ? s.energy : info[f];
          if (src === undefined) {
            throw new EbmError('INVALID_PARAM', `Unknown trajectory field "${f}" for ${sampler.name}.`, {
              argument: 'trajectory.fields',
              value: f,
              fix: `use x, energy${Object.keys(info).length ? `, ${Object.keys(info).join(', ')}` : ''}.`,
            });
          }
          push(`t:${f}`, tf.clone(src));
        }
        if (wantConv && !trajFields.includes('x')) push('t:x', tf.clone(s.x));
        if (wantDiag) {
          tf.tidy(() => {
            const { mean, variance } = tf.moments(s.x, 0);
            push('d:mean', tf.keep(mean));
            push('d:var', tf.keep(tf.clipByValue(variance, 1e-10, 1e10)));
            if (s.energy !== undefined) push('d:energy', tf.keep(tf.mean(s.energy)));
            for (const [k, v] of Object.entries(info))
              push(`d:${k}`, tf.keep(v.rank >= 2 ? tf.mean(v, 0) : tf.mean(v)));
          });
        }
      }
      const held = new Set(stateTensors(state));
      for (const t of Object.values(info)) if (!held.has(t)) t.dispose();
      if (i % progressEvery === 0 || i === total) {
        options.onProgress?.({
          step: i,
          total,
          phase: i <= burnIn && burnIn > 0 ? 'burnIn' : 'sampling',
          elapsedMs: Date.now() - started,
        });
      }
    }
    const trajectory: Record<string, tf.Tensor> = {};
    const diagnostics: Record<string, tf.Tensor> = {};
    for (const [k, a] of records) {
      if (k.startsWith('t:') && trajFields.includes(k.slice(2))) trajectory[k.slice(2)] = tf.stack(a, 1);
      if (k.startsWith('d:')) diagnostics[k.slice(2)] = tf.stack(a, 0);
    }
    let convergence: ConvergenceSummary | undefined;
    const xs = records.get('t:x');
    if (wantConv && xs !== undefined) convergence = await convergenceOf(xs);
    for (const a of records.values()) for (const t of a) t.dispose();
    records.clear();
    const finalState = state;
    state = undefined;
    const samples = options.keepState ? (tf.clone(finalState.x) as tf.Tensor2D) : finalState.x;
    if (!options.keepState) for (const t of stateTensors(finalState)) if (t !== samples) t.dispose();
    return {
      samples,
      trajectory: trajFields.length > 0 ? trajectory : undefined,
      diagnostics: wantDiag ? diagnostics : undefined,
      convergence,
      finalState: options.keepState ? finalState : undefined,
      nKept: Math.floor(nSteps / thin),
      stepsRun: total,
    };
  } catch (e) {
    for (const a of records.values()) for (const t of a) t.dispose();
    if (state !== undefined) sampler.disposeState(state);
    throw e;
  }
}

function initialState<S extends SamplerState>(
  sampler: AsyncSteppable<S>,
  options: SampleOptions,
  runKey: RngKey,
): S {
  const from = options.resumeFrom as S | undefined;
  if (from !== undefined) {
    if (from === null || typeof from !== 'object' || !(from.x instanceof tf.Tensor)) {
      throw new EbmError('INVALID_PARAM', 'resumeFrom must be a sampler state.', {
        argument: 'resumeFrom',
        value: from === null ? null : typeof from,
        fix: 'pass result.finalState (run with keepState: true) or sampler.loadState(saved).',
      });
    }
    assertBatch('resumeFrom.x', from.x, sampler.energy.dim);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(from)) out[k] = v instanceof tf.Tensor ? tf.clone(v) : v;
    return out as unknown as S;
  }
  if (options.x0 !== undefined) return sampler.init(options.x0);
  const n = assertInteger('nSamples', options.nSamples ?? 1, 1);
  const dim = options.dim ?? sampler.energy.dim;
  if (dim === undefined) {
    throw new EbmError('INVALID_PARAM', 'Give x0 or dim: the energy has no fixed dimension.', {
      argument: 'dim',
      value: dim,
      fix: 'pass { x0 } or { nSamples, dim }.',
    });
  }
  assertInteger('dim', dim, 1);
  const x0 = randomNormal(foldIn(runKey, Number.MAX_SAFE_INTEGER), [n, dim]) as tf.Tensor2D;
  try {
    return sampler.init(x0);
  } finally {
    x0.dispose();
  }
}

/** Split R̂ and bulk/tail ESS per dimension from kept states (`[B, D]` each), read with one `await`. */
async function convergenceOf(xs: tf.Tensor[]): Promise<ConvergenceSummary> {
  const stacked = tf.stack(xs, 1) as tf.Tensor3D; // [B, nKept, D]
  const [b, n, d] = stacked.shape;
  const data = await stacked.data();
  stacked.dispose();
  const essBulk: number[] = [];
  const essTail: number[] = [];
  const rhat: number[] = [];
  for (let j = 0; j < d; j++) {
    const chains: number[][] = [];
    for (let c = 0; c < b; c++) {
      const row = new Array<number>(n);
      for (let t = 0; t < n; t++) row[t] = data[(c * n + t) * d + j]!;
      chains.push(row);
    }
    const r = splitRhatEss(chains);
    essBulk.push(r.essBulk);
    essTail.push(r.essTail);
    rhat.push(r.rhat);
  }
  return { essBulk, essTail, rhat };
}
