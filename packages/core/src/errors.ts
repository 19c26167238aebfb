/**
 * Error codes carried by every {@link EbmError}. Stable across releases: match on `code`, not on the message.
 *
 * - `SHAPE_MISMATCH`: a tensor has the wrong rank, batch size or feature dimension.
 * - `INVALID_DTYPE`: a tensor is not float32 (or int32 where an index is expected).
 * - `INVALID_PARAM`: a number, option or enum value is out of range.
 * - `NON_FINITE`: a tensor or a number holds NaN or ±Infinity where finite values are required.
 * - `BACKEND_UNAVAILABLE`: a tfjs backend or a native dependency cannot be initialised.
 * - `KERNEL_NOT_FOUND`: a named kernel was never declared in the kernel registry.
 * - `KERNEL_CONFLICT`: a kernel or implementation was registered twice without `override`.
 * - `ABORTED`: a run was stopped through its `AbortSignal`.
 * - `DIVERGED`: a run produced non-finite values it could not recover from.
 * - `NOT_IMPLEMENTED`: an optional capability is absent (for example an energy without a fused kernel).
 * - `STATE_ERROR`: an object was used in a state that does not allow the call (disposed, not initialised).
 * - `TEST_FAILURE`: a statistical assertion of `@ebm/core/testing` failed.
 */
export type EbmErrorCode =
  | 'SHAPE_MISMATCH'
  | 'INVALID_DTYPE'
  | 'INVALID_PARAM'
  | 'NON_FINITE'
  | 'BACKEND_UNAVAILABLE'
  | 'KERNEL_NOT_FOUND'
  | 'KERNEL_CONFLICT'
  | 'ABORTED'
  | 'DIVERGED'
  | 'NOT_IMPLEMENTED'
  | 'STATE_ERROR'
  | 'TEST_FAILURE';

/** All error codes, for iteration and validation. */
export const EBM_ERROR_CODES: readonly EbmErrorCode[] = [
  'SHAPE_MISMATCH',
  'INVALID_DTYPE',
  'INVALID_PARAM',
  'NON_FINITE',
  'BACKEND_UNAVAILABLE',
  'KERNEL_NOT_FOUND',
  'KERNEL_CONFLICT',
  'ABORTED',
  'DIVERGED',
  'NOT_IMPLEMENTED',
  'STATE_ERROR',
  'TEST_FAILURE',
];

/** Structured context attached to an {@link EbmError}. */
export interface EbmErrorDetails {
  /** Name of the offending argument or option, e.g. `"stepSize"` or `"x"`. */
  readonly argument?: string;
  /** The value that was received (numbers, strings, shapes). */
  readonly value?: unknown;
  /** What to do instead. */
  readonly fix?: string;
  /** The underlying error, when one was caught and re-thrown. */
  readonly cause?: unknown;
}

function describe(value: unknown): string {
  const cut = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);
  if (typeof value === 'string') return cut(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return cut(JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The one error class of `@ebm/*`. Its message names the argument, the value received and the fix;
 * the same facts are available as fields for programs.
 *
 * @example
 * ```ts
 * try { sampler.sample({ nSteps: -1 }); }
 * catch (e) { if (e instanceof EbmError && e.code === 'INVALID_PARAM') console.log(e.argument); }
 * ```
 */
const EBM_ERROR_MARK = Symbol.for('@ebm/core/EbmError');

export class EbmError extends Error {
  /** Machine-readable error code. */
  readonly code: EbmErrorCode;
  /** Name of the offending argument, when there is one. */
  readonly argument: string | undefined;
  /** The offending value, when there is one. */
  readonly value: unknown;
  /** Suggested fix. */
  readonly fix: string | undefined;

  constructor(code: EbmErrorCode, message: string, details: EbmErrorDetails = {}) {
    const parts = [message];
    if (details.argument !== undefined && !message.includes(details.argument)) {
      parts.push(`(argument: ${details.argument})`);
    }
    if ('value' in details) parts.push(`Received: ${describe(details.value)}.`);
    if (details.fix !== undefined) parts.push(`Fix: ${details.fix}`);
    super(`[${code}] ${parts.join(' ')}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'EbmError';
    this.code = code;
    this.argument = details.argument;
    this.value = details.value;
    this.fix = details.fix;
    // A global-registry symbol: survives duplicate copies of @ebm/core in one program (see isEbmError).
    Object.defineProperty(this, EBM_ERROR_MARK, { value: true, enumerable: false });
  }

  /** `instanceof` that also recognises errors from another copy of `@ebm/core` (a duplicated dependency). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep ordinary prototype-chain semantics (`this` is the class on the right of instanceof).
    // biome-ignore lint/complexity/noThisInStatic: the receiver is what distinguishes subclasses here.
    if (this !== EbmError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[EBM_ERROR_MARK] === true
    );
  }
}

/**
 * True when `e` is an {@link EbmError}, optionally with the given code. Recognises errors thrown by another
 * copy of `@ebm/core` too (a `Symbol.for` marker, not class identity), so a plugin bundling its own copy
 * still matches.
 */
export function isEbmError(e: unknown, code?: EbmErrorCode): e is EbmError {
  return e instanceof EbmError && (code === undefined || (e as EbmError).code === code);
}
