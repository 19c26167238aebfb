import { isEbmError } from '@ebm/core';
import { describe, expect, it } from 'vitest';
import { defineRegistry, lookup, parseFitSpec, parseJob, redisOptions } from '../src/index.js';

const good = {
  type: 'chains',
  runId: 'r1',
  index: 0,
  energy: { kind: 'doubleWell', params: { barrierHeight: 1 } },
  sampler: { kind: 'langevin' },
  chainStart: 0,
  chainEnd: 4,
  dim: 2,
  seed: 1,
  nSteps: 10,
  burnIn: 0,
  thin: 1,
  output: 'summary',
  checkpointEvery: 5,
};

const rejects = (data: unknown, re: RegExp) => {
  let err: unknown;
  try {
    parseJob(data);
  } catch (e) {
    err = e;
  }
  expect(isEbmError(err)).toBe(true);
  expect((err as Error).message).toMatch(re);
};

describe('job payloads are untrusted input', () => {
  it('accepts a well-formed job', () => {
    expect(parseJob(JSON.parse(JSON.stringify(good)))).toMatchObject({ chainEnd: 4, output: 'summary' });
  });

  it('rejects unknown fields, prototype keys, wrong types and out-of-range sizes with the path', () => {
    rejects({ ...good, extra: 1 }, /job\.extra is not a known field/);
    rejects(JSON.parse('{"type":"chains","__proto__":{"x":1}}'), /job\.__proto__ is not a known field/);
    rejects(
      { ...good, energy: { kind: 'doubleWell', params: JSON.parse('{"__proto__":{"polluted":true}}') } },
      /forbidden key/,
    );
    rejects({ ...good, energy: { kind: '../../etc/passwd' } }, /job\.energy\.kind must be a name/);
    rejects({ ...good, nSteps: 1.5 }, /job\.nSteps must be an integer/);
    rejects({ ...good, chainEnd: 0 }, /job\.chainEnd/);
    rejects({ ...good, chainEnd: 2_000_000 }, /job\.chainEnd/);
    rejects({ ...good, output: 'samples', chainEnd: 1_000_000, nSteps: 1000 }, /floats of draws/);
    rejects({ ...good, runId: 'a:b' }, /job\.runId/);
    rejects({ ...good, type: 'shell' }, /job\.type/);
    rejects(null, /job\.type/);
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { a: deep };
    rejects({ ...good, sampler: { kind: 'langevin', params: deep } }, /nested deeper/);
    rejects({ ...good, sampler: { kind: 'langevin', params: { s: 'x'.repeat(5000) } } }, /longer than/);
  });

  it('validates fit configurations', () => {
    const spec = {
      dataset: { kind: 'twoMoons' },
      energy: { kind: 'mlp' },
      loss: { kind: 'dsm' },
      optimizer: { kind: 'adam', learningRate: 0.001 },
      steps: 10,
    };
    expect(parseFitSpec(spec).optimizer.kind).toBe('adam');
    expect(() => parseFitSpec({ ...spec, optimizer: { kind: 'eval', learningRate: 1 } })).toThrow(
      /optimizer\.kind/,
    );
    expect(() => parseFitSpec({ ...spec, steps: -1 })).toThrow(/config\.steps/);
    expect(() => parseFitSpec({ ...spec, lr: 1 })).toThrow(/config\.lr is not a known field/);
  });

  it('looks registry names up as own properties only', () => {
    const reg = defineRegistry({ energies: { a: () => ({}) as never } });
    expect(() => lookup(reg, 'energies', 'constructor')).toThrow(/no energies entry "constructor"/);
    expect(() => lookup(reg, 'energies', 'toString')).toThrow(/use one of: a/);
    expect(() => defineRegistry({ energies: { a: 1 } } as never)).toThrow(/must be a function/);
    expect(() => defineRegistry({ energy: {} } as never)).toThrow(/Unknown registry field "energy"/);
  });
});

describe('redisOptions', () => {
  it('maps URL, auth and TLS settings, and verifies certificates by default', () => {
    const { options } = redisOptions({ url: 'rediss://h:6380', username: 'u', password: 'p' });
    expect(options).toMatchObject({ username: 'u', password: 'p', maxRetriesPerRequest: null });
    expect(options.tls).toMatchObject({ rejectUnauthorized: true });
    expect(redisOptions({ url: 'redis://h:6379' }).options.tls).toBeUndefined();
    expect(() => redisOptions({ url: 'http://h' })).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisOptions({ url: 'not a url' })).toThrow(/not a valid URL/);
  });
});
