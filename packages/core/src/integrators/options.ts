import { EbmError } from '../errors.js';

/**
 * Checks an option bag: `undefined` or a plain object whose keys are all in `known`. An unknown key (a typo
 * such as `stepsize`) raises `INVALID_PARAM` naming it and the accepted keys.
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
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      const near = known.find((n) => n.toLowerCase() === k.toLowerCase().replace(/_/g, ''));
      throw new EbmError('INVALID_PARAM', `${owner}: unknown option "${k}".`, {
        argument: k,
        value: (options as Record<string, unknown>)[k],
        fix: near !== undefined ? `did you mean "${near}"?` : `known options: ${known.join(', ')}.`,
      });
    }
  }
  return options;
}
