import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import * as models from '../src/index.js';

it('the README example runs as written and leaks nothing', async () => {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');
  const block = /## Minimal example\s+```ts(?: run)?\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!.replace(/^import .*$/gm, '');
  const logs: unknown[][] = [];
  const console = { log: (...a: unknown[]) => logs.push(a) };
  const before = tf.memory().numTensors;
  const run = new Function('tf', 'rngKey', 'Gaussian', 'MLPEnergy', 'restoreEnergy', 'console', body);
  run(tf, core.rngKey, models.Gaussian, models.MLPEnergy, models.restoreEnergy, console);
  expect(logs[0]).toEqual(['gaussian', expect.any(Number), [1000, 2]]);
  expect(logs[1]).toEqual([true]);
  expect(tf.memory().numTensors).toBe(before);
});
