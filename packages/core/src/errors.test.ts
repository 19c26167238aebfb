import { describe, expect, it } from 'vitest';
import { EBM_ERROR_CODES, EbmError, isEbmError } from './errors.js';

describe('EbmError', () => {
  it('carries code, argument, value and fix, and names them in the message', () => {
    const e = new EbmError('INVALID_PARAM', 'stepSize must be > 0.', {
      argument: 'stepSize',
      value: -1,
      fix: 'pass 0.01.',
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('EbmError');
    expect(e.code).toBe('INVALID_PARAM');
    expect(e.argument).toBe('stepSize');
    expect(e.value).toBe(-1);
    expect(e.fix).toBe('pass 0.01.');
    expect(e.message).toContain('[INVALID_PARAM]');
    expect(e.message).toContain('Received: -1.');
    expect(e.message).toContain('Fix: pass 0.01.');
  });
  it('mentions the argument when the message does not', () => {
    const e = new EbmError('SHAPE_MISMATCH', 'bad shape', { argument: 'x', value: [2, 3] });
    expect(e.message).toContain('(argument: x)');
    expect(e.message).toContain('[2,3]');
  });
  it('keeps a cause and truncates long values', () => {
    const cause = new Error('inner');
    const e = new EbmError('BACKEND_UNAVAILABLE', 'no', { value: 'x'.repeat(500), cause });
    expect(e.cause).toBe(cause);
    expect(e.message.length).toBeLessThan(200);
  });
  it('isEbmError matches class and code', () => {
    const e = new EbmError('ABORTED', 'stop');
    expect(isEbmError(e)).toBe(true);
    expect(isEbmError(e, 'ABORTED')).toBe(true);
    expect(isEbmError(e, 'NON_FINITE')).toBe(false);
    expect(isEbmError(new Error('x'))).toBe(false);
    expect(EBM_ERROR_CODES).toContain('TEST_FAILURE');
    expect(new Set(EBM_ERROR_CODES).size).toBe(EBM_ERROR_CODES.length);
  });
});

describe('EbmError identity across duplicate copies of @ebm/core', () => {
  it('isEbmError and instanceof recognise an error thrown by another copy (the built dist)', async () => {
    // The built bundle is a second, independent copy of errors.ts with its own EbmError class.
    const dist = (await import('../dist/index.js')) as unknown as typeof import('./errors.js');
    expect(dist.EbmError).not.toBe(EbmError);
    const foreign = new dist.EbmError('ABORTED', 'from another copy');
    expect(isEbmError(foreign)).toBe(true);
    expect(isEbmError(foreign, 'ABORTED')).toBe(true);
    expect(isEbmError(foreign, 'NON_FINITE')).toBe(false);
    expect(foreign instanceof EbmError).toBe(true);
    expect(dist.isEbmError(new EbmError('DIVERGED', 'here'))).toBe(true);
    expect(isEbmError({ code: 'ABORTED' })).toBe(false);
  });

  it('subclasses keep ordinary instanceof', () => {
    class Sub extends EbmError {}
    expect(new Sub('ABORTED', 'x') instanceof Sub).toBe(true);
    expect(new EbmError('ABORTED', 'x') instanceof Sub).toBe(false);
    expect(new Sub('ABORTED', 'x') instanceof EbmError).toBe(true);
  });
});
