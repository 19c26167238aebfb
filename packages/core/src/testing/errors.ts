import { EbmError, type EbmErrorCode, isEbmError } from '../errors.js';

/** What the error must also carry (besides the code) for {@link expectEbmError}. */
export interface ExpectEbmErrorOptions {
  /** The argument the error must name. */
  readonly argument?: string;
  /** A pattern the message must match. */
  readonly message?: RegExp;
}

function fail(what: string, got: unknown, fix: string): EbmError {
  return new EbmError('TEST_FAILURE', `expected an EbmError, ${what}`, { argument: 'fn', value: got, fix });
}

function check(error: unknown, code: EbmErrorCode | undefined, o: ExpectEbmErrorOptions): EbmError {
  if (!isEbmError(error)) {
    const e = error as Error | undefined;
    throw fail(
      `got ${e?.constructor?.name ?? typeof error}: ${String(e?.message ?? error).slice(0, 200)}`,
      e?.name,
      'throw an EbmError (code, argument, fix) for bad input',
    );
  }
  const problems: string[] = [];
  if (code !== undefined && error.code !== code) problems.push(`code ${error.code}, expected ${code}`);
  if (o.argument !== undefined && error.argument !== o.argument)
    problems.push(`argument ${String(error.argument)}, expected ${o.argument}`);
  if (o.message !== undefined && !o.message.test(error.message))
    problems.push(`message does not match ${String(o.message)}`);
  if (problems.length > 0) {
    throw new EbmError('TEST_FAILURE', `the EbmError differs: ${problems.join('; ')} (${error.message})`, {
      argument: 'fn',
      value: error.code,
      cause: error,
    });
  }
  return error;
}

/**
 * Calls `fn`, which must throw an {@link EbmError} (with `code`, and the argument / message given in `options`,
 * when given); returns the error for further checks. Throws `TEST_FAILURE` when `fn` returns, throws anything
 * else, or the error differs. For an async call use {@link expectEbmErrorAsync}.
 *
 * @example
 * ```ts
 * const e = expectEbmError(() => new Gaussian({ mean: [] }), 'INVALID_PARAM', { argument: 'mean' });
 * expect(e.fix).toContain(…);
 * ```
 */
export function expectEbmError(
  fn: () => unknown,
  code?: EbmErrorCode,
  options: ExpectEbmErrorOptions = {},
): EbmError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return check(e, code, options);
  }
  if (result instanceof Promise) {
    result.catch(() => {}); // (reported below; keep the rejection from going unhandled)
    throw fail('got a promise', 'Promise', 'use expectEbmErrorAsync for an async call');
  }
  throw fail('nothing was thrown', result, 'the call must refuse this input with an EbmError');
}

/**
 * {@link expectEbmError} for an async call: awaits `p` (a promise, or a function called first) and resolves to
 * the {@link EbmError} it rejects (or throws) with; rejects with `TEST_FAILURE` otherwise.
 */
export async function expectEbmErrorAsync(
  p: Promise<unknown> | (() => unknown),
  code?: EbmErrorCode,
  options: ExpectEbmErrorOptions = {},
): Promise<EbmError> {
  let result: unknown;
  try {
    result = await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return check(e, code, options);
  }
  throw fail('nothing was thrown', result, 'the call must refuse this input with an EbmError');
}
