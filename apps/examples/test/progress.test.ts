import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/demo/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}
const p = { loss: '0.123', ep: '1.000', en: '2.000' };

describe('demo progress when the stream is not a TTY', () => {
  it('prints a plain line every 10 % of the run, with no timer and no carriage returns', () => {
    const s = sink(false);
    let t = 0;
    const bar = createProgress({ stream: s.stream, now: () => t, intervalMs: 1e9 });
    bar.start(200, 0, p);
    for (let v = 1; v <= 200; v++) {
      t += 5;
      bar.update(v, p);
    }
    bar.stop();
    const lines = s.text().trimEnd().split('\n');
    expect(lines.map((l) => l.match(/train (\d+)%/)?.[1])).toEqual([
      '0',
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
    ]);
    expect(s.text().includes('\r') || s.text().includes(String.fromCharCode(27))).toBe(false);
    expect(lines[5]).toContain('100/200 steps | loss 0.123 | E+ 1.000 E- 2.000 | 1s left');
  });

  it('also prints a line when intervalMs has passed since the last one (slow runs)', () => {
    const s = sink(false);
    let t = 0;
    const bar = createProgress({ stream: s.stream, now: () => t, intervalMs: 1000, everyFraction: 1 });
    bar.start(1000, 0, p);
    for (let v = 1; v <= 10; v++) {
      t += 400;
      bar.update(v, p);
    }
    // lines at 0, after 1.2 s (v=3), 2.4 s (v=6), 3.6 s (v=9); stop() prints the last value (v=10)
    bar.stop();
    const values = s
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => Number(l.match(/ (\d+)\/1000 steps/)?.[1]));
    expect(values).toEqual([0, 3, 6, 9, 10]);
  });

  it('uses the redrawn bar on a TTY', () => {
    const s = sink(true);
    const bar = createProgress({ stream: s.stream });
    bar.start(10, 0, p);
    bar.update(10, p);
    bar.stop();
    expect(s.text()).toMatch(/train \|.*\| 100% 10\/10 steps/);
  });
});
