import { describe, expect, it } from 'vitest';
import { isEbmError } from './errors.js';
import { assertKnownOptions, editDistance, suggestOption, toCamelCase } from './options.js';

const known = ['nSamples', 'nSteps', 'stepSize', 'noiseScale', 'thin', 'burnIn', 'seed'];

describe('option names', () => {
  it('converts snake_case and kebab-case to camelCase', () => {
    expect(toCamelCase('step_size')).toBe('stepSize');
    expect(toCamelCase('burn-in')).toBe('burnIn');
    expect(toCamelCase('n_leapfrog_steps')).toBe('nLeapfrogSteps');
  });
  it('computes edit distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('stepsize', 'stepSize')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests the name a TorchEBM user meant', () => {
    expect(suggestOption('step_size', known)).toBe('stepSize');
    expect(suggestOption('n_samples', known)).toBe('nSamples');
    expect(suggestOption('nsamples', known)).toBe('nSamples');
    expect(suggestOption('k_steps', known)).toBe('nSteps');
    expect(suggestOption('noiseScal', known)).toBe('noiseScale');
    expect(suggestOption('stepsize', known)).toBe('stepSize');
    expect(suggestOption('completelyDifferent', known)).toBeUndefined();
  });
  it('rejects unknown keys with a clear EbmError, accepts known ones', () => {
    expect(assertKnownOptions('X', { stepSize: 1 }, known)).toEqual({ stepSize: 1 });
    let err: unknown;
    try {
      assertKnownOptions('LangevinDynamics', { step_size: 0.1 }, known);
    } catch (e) {
      err = e;
    }
    expect(isEbmError(err, 'INVALID_PARAM')).toBe(true);
    expect(String((err as Error).message)).toMatch(
      /Unknown option "step_size" for LangevinDynamics\. Did you mean "stepSize"\?/,
    );
    expect(() => assertKnownOptions('X', { zzz: undefined }, known)).toThrow(/use one of: nSamples/);
  });
});
