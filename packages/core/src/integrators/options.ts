import { EbmError } from '../errors.js';
import { assertKnownOptions } from '../options.js';

/**
 * Checks an optional option bag: `undefined` gives `{}`; anything but a plain object raises `INVALID_PARAM`;
 * an unknown key (a typo such as `stepsize`) raises `INVALID_PARAM` with a suggestion ({@link assertKnownOptions}).
 */
export function parseKnownOptions<T extends object>(
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
  return assertKnownOptions(owner, options, known);
}
