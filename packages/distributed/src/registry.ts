import { EbmError, type EnergyFunction, type SamplingKernel } from '@ebm/core';
import type { ChainBatchJob, ComponentSpec, TrainJob } from './specs.js';
import type { JsonObject, JsonValue } from './validate.js';

/**
 * # The worker's registry: how a job's data becomes objects
 *
 * `@ebm/distributed` depends at run time only on `@ebm/core` (and its queue engine), so it cannot construct a
 * `DoubleWell` or a `LangevinDynamics` itself. A job names them (`{ kind: 'doubleWell', params: {...} }`) and
 * the worker looks the name up in a **registry of factories provided by the application** — the code that runs
 * the worker, which may import any package. The CLI loads it from a module (`ebm-worker --registry
 * ./registry.mjs`, default export). Only names in the registry can run: a job cannot make a worker execute
 * anything else, and factories receive validated JSON parameters only.
 *
 * ```ts
 * import { DoubleWell } from '@ebm/models';
 * import { LangevinDynamics } from '@ebm/samplers';
 * import { defineRegistry } from '@ebm/distributed';
 * export default defineRegistry({
 *   energies: { doubleWell: (p) => new DoubleWell(p) },
 *   samplers: { langevin: (energy, p) => new LangevinDynamics(energy, p) },
 * });
 * ```
 * @module
 */

/** Builds an energy from JSON parameters. */
export type EnergyFactory = (params: JsonObject) => EnergyFunction;
/** Builds a sampler (any `{ init, step }` kernel, e.g. an `@ebm/samplers` sampler) for an energy. */
export type SamplerFactory = (energy: EnergyFunction, params: JsonObject) => SamplingKernel;

/** What a trainer receives (see {@link Trainer}). */
export interface TrainContext {
  readonly job: TrainJob;
  /** The job's JSON configuration. */
  readonly config: JsonObject;
  readonly seed: number;
  /** The last checkpoint saved by an earlier delivery of this job, to continue from (or `undefined`). */
  readonly resumeFrom: JsonValue | undefined;
  /** Saves a checkpoint (JSON) that a retry of this job will receive as `resumeFrom`. */
  checkpoint(state: JsonValue): Promise<void>;
  /** Reports progress (steps done of total). */
  progress(step: number, total: number): void;
  /** Aborted when the worker shuts down. */
  readonly signal: AbortSignal;
  /** The tfjs backend the worker runs on. */
  readonly backend: string;
  /** The registry (energies, samplers) for trainers that build components by name. */
  readonly registry: Registry;
}

/** Runs one training job and returns its (JSON) result. Must give the same result when resumed. */
export type Trainer = (ctx: TrainContext) => Promise<JsonObject>;

/** The factories a worker may use. */
export interface Registry {
  readonly energies?: Readonly<Record<string, EnergyFactory>>;
  readonly samplers?: Readonly<Record<string, SamplerFactory>>;
  readonly trainers?: Readonly<Record<string, Trainer>>;
  /**
   * Sets up the tfjs backend for `preference` (`'auto'`, `'webgpu'`, `'wasm'`, `'cpu'`, …) and returns the
   * name of the active backend. Default: see `selectBackend`.
   */
  readonly setupBackend?: (preference: string) => Promise<string>;
}

const SECTIONS = ['energies', 'samplers', 'trainers'] as const;

/** Checks a registry's shape (every factory a function) and returns it. */
export function defineRegistry<R extends Registry>(registry: R): R {
  if (registry === null || typeof registry !== 'object') {
    throw new EbmError('INVALID_PARAM', 'A registry must be an object of factories.', {
      argument: 'registry',
      value: registry,
      fix: 'pass { energies: { name: (params) => energy }, samplers: {...}, trainers: {...} }.',
    });
  }
  for (const k of Object.keys(registry)) {
    if (!(SECTIONS as readonly string[]).includes(k) && k !== 'setupBackend') {
      throw new EbmError('INVALID_PARAM', `Unknown registry field "${k}".`, {
        argument: `registry.${k}`,
        value: k,
        fix: 'use energies, samplers, trainers and setupBackend.',
      });
    }
  }
  for (const s of SECTIONS) {
    const section = registry[s];
    if (section === undefined) continue;
    if (section === null || typeof section !== 'object') {
      throw new EbmError('INVALID_PARAM', `registry.${s} must be an object of factories.`, {
        argument: `registry.${s}`,
        value: section,
        fix: `pass { ${s}: { name: factory } }.`,
      });
    }
    for (const [name, f] of Object.entries(section)) {
      if (typeof f !== 'function') {
        throw new EbmError('INVALID_PARAM', `registry.${s}.${name} must be a function.`, {
          argument: `registry.${s}.${name}`,
          value: typeof f,
          fix: 'pass a factory function.',
        });
      }
    }
  }
  if (registry.setupBackend !== undefined && typeof registry.setupBackend !== 'function') {
    throw new EbmError('INVALID_PARAM', 'registry.setupBackend must be a function.', {
      argument: 'registry.setupBackend',
      value: typeof registry.setupBackend,
      fix: 'pass async (preference) => backendName.',
    });
  }
  return registry;
}

/** The factory `kind` of `section` (own properties only), or a clear `UNKNOWN_KIND` error. */
export function lookup<S extends (typeof SECTIONS)[number]>(
  registry: Registry,
  section: S,
  kind: string,
): NonNullable<Registry[S]>[string] {
  const table = registry[section] as Record<string, unknown> | undefined;
  if (table === undefined || !Object.hasOwn(table, kind)) {
    const known = table === undefined ? [] : Object.keys(table);
    throw new EbmError('INVALID_PARAM', `This worker's registry has no ${section} entry "${kind}".`, {
      argument: section,
      value: kind,
      fix: `use one of: ${known.join(', ') || '(none registered)'}; or add it to the worker's registry.`,
    });
  }
  return table[kind] as NonNullable<Registry[S]>[string];
}

/** Builds the energy of a component spec. */
export function buildEnergy(registry: Registry, spec: ComponentSpec): EnergyFunction {
  return (lookup(registry, 'energies', spec.kind) as EnergyFactory)(spec.params ?? {});
}

/** Builds the sampler of a component spec for `energy`. */
export function buildSampler(
  registry: Registry,
  spec: ComponentSpec,
  energy: EnergyFunction,
): SamplingKernel {
  const k = (lookup(registry, 'samplers', spec.kind) as SamplerFactory)(energy, spec.params ?? {});
  if (k === null || typeof k !== 'object' || typeof k.init !== 'function' || typeof k.step !== 'function') {
    throw new EbmError(
      'INVALID_PARAM',
      `Sampler factory "${spec.kind}" did not return a { init, step } kernel.`,
      {
        argument: 'samplers',
        value: spec.kind,
        fix: 'return a sampler (e.g. new LangevinDynamics(energy, params)).',
      },
    );
  }
  return k;
}

/** The energy and sampler of a chain-batch job (the caller disposes the energy when it has `dispose`). */
export function buildChainComponents(
  registry: Registry,
  job: Pick<ChainBatchJob, 'energy' | 'sampler'>,
): { energy: EnergyFunction; sampler: SamplingKernel } {
  const energy = buildEnergy(registry, job.energy);
  return { energy, sampler: buildSampler(registry, job.sampler, energy) };
}
