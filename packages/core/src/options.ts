import { EbmError } from './errors.js';

/**
 * # Option names
 *
 * Every options object of `@ebm/*` rejects names it does not know, so a misspelt or TorchEBM-style option
 * (`step_size`, `n_samples`, `k_steps`) fails loudly instead of silently falling back to a default. The error
 * suggests the right name: snake_case → camelCase, a known TorchEBM alias, or the closest name by edit distance.
 * @module
 */

/** TorchEBM's option names that @ebm renamed beyond snake_case → camelCase (their @ebm names). */
export const TORCHEBM_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  n_samples: 'nSamples',
  num_samples: 'nSamples',
  nsamples: 'nSamples',
  n_steps: 'nSteps',
  num_steps: 'nSteps',
  k_steps: 'nSteps',
  n_leapfrog_steps: 'nLeapfrog',
  num_leapfrog_steps: 'nLeapfrog',
  thinning: 'thin',
  burn_in: 'burnIn',
  return_trajectory: 'trajectory',
  return_diagnostics: 'diagnostics',
  noise_scale: 'noiseScale',
  step_size: 'stepSize',
  mass: 'mass',
  cov: 'covariance',
  batch_size: 'batchSize',
  lr: 'learningRate',
  learning_rate: 'learningRate',
  buffer_size: 'bufferSize',
  persistent: 'persistent',
  main_scheduler: 'main',
});

/**
 * Second choices for TorchEBM names whose first alias an owner does not have (`k_steps` is `nSteps` for a
 * sampler run but `k` for contrastive divergence; `buffer_size` is `capacity` for a replay buffer).
 */
export const TORCHEBM_ALT_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  k_steps: ['k'],
  n_steps: ['k', 'steps'],
  buffer_size: ['capacity', 'buffer'],
  replay_buffer: ['buffer'],
  n_samples: ['nPoints'],
});

/** snake_case / kebab-case → camelCase. */
export function toCamelCase(name: string): string {
  return name.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length]!;
}

/** The known name a user probably meant by `name`, or `undefined`. */
export function suggestOption(name: string, known: readonly string[]): string | undefined {
  const camel = toCamelCase(name);
  if (camel !== name && known.includes(camel)) return camel;
  const alias = TORCHEBM_ALIASES[name] ?? TORCHEBM_ALIASES[name.toLowerCase()];
  if (alias !== undefined && known.includes(alias)) return alias;
  const alt = (TORCHEBM_ALT_ALIASES[name] ?? TORCHEBM_ALT_ALIASES[name.toLowerCase()])?.find((a) =>
    known.includes(a),
  );
  if (alt !== undefined) return alt;
  const lower = camel.toLowerCase();
  const caseOnly = known.find((k) => k.toLowerCase() === lower);
  if (caseOnly !== undefined) return caseOnly;
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(camel, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Checks an option bag: `undefined` (returns `{}`) or a plain object whose keys are all in `known`. Throws
 * `INVALID_PARAM` for a non-object and for a key outside `known` (keys whose value is `undefined` count:
 * `{ step_size: undefined }` is still a typo). The message names the owner, the key, the suggestion and the
 * known names. Returns `options` for chaining.
 *
 * @example
 * assertKnownOptions('LangevinDynamics', { step_size: 0.1 }, ['stepSize', 'noiseScale']);
 * // EbmError [INVALID_PARAM] Unknown option "step_size" for LangevinDynamics. Did you mean "stepSize"? …
 */
export function assertKnownOptions<T extends object>(
  owner: string,
  options: T | undefined,
  known: readonly string[],
): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new EbmError('INVALID_PARAM', `${owner} options must be an object.`, {
      argument: 'options',
      value: options === null ? null : typeof options,
      fix: 'pass an options object, or nothing for the defaults.',
    });
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = suggestOption(key, known);
    throw new EbmError(
      'INVALID_PARAM',
      `Unknown option "${key}" for ${owner}.${hint !== undefined ? ` Did you mean "${hint}"?` : ''}`,
      {
        argument: key,
        value: (options as Record<string, unknown>)[key],
        fix:
          hint !== undefined
            ? `rename it to ${hint} (@ebm uses camelCase names; see the "Coming from TorchEBM" guide).`
            : `use one of: ${known.join(', ')}.`,
      },
    );
  }
  return options;
}

/**
 * The option names of an options type as a runtime list for {@link assertKnownOptions}, checked complete at
 * compile time: every name of `T` must be listed (and nothing else), so a new option cannot be forgotten.
 *
 * @example
 * ```ts
 * interface MyOptions { readonly stepSize?: number; readonly noiseScale?: number }
 * const KEYS = optionKeys<MyOptions>({ stepSize: true, noiseScale: true }); // leaving one out is a type error
 * ```
 */
export function optionKeys<T extends object>(
  keys: { readonly [K in keyof Required<T>]: true },
): readonly string[] {
  return Object.freeze(Object.keys(keys));
}
