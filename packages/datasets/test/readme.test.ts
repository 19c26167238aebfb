import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import * as datasets from '../src/index.js';

it('the README example runs as written and leaks nothing', () => {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');
  const block = /## Minimal example\s+```ts(?: run)?\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!.replace(/^import .*$/gm, '');
  const logs: unknown[][] = [];
  const console = { log: (...a: unknown[]) => logs.push(a) };
  const before = tf.memory().numTensors;
  new Function('tf', 'checkerboard', 'makeDataset', 'twoMoons', 'console', body)(
    tf,
    datasets.checkerboard,
    datasets.makeDataset,
    datasets.twoMoons,
    console,
  );
  expect(logs[0]![0]).toBe(1000);
  expect(logs[0]![1]).toHaveLength(2);
  expect(logs[1]).toEqual([8]);
  expect(logs[2]).toEqual([5000, 2000]);
  expect(tf.memory().numTensors).toBe(before);
});
