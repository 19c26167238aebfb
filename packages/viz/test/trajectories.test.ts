import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { plotTrajectories } from '../src/index.js';
import { byAria, elementCount, expectEbmError, normals, renderBoth, TestDoubleWell } from './helpers.js';

/** Random walks started on a circle: trajectories[chain][step] = [x, y]. */
function walks(chains: number, steps: number, seed: number): number[][][] {
  const z = normals(chains * steps * 2, seed);
  return Array.from({ length: chains }, (_, c) => {
    let x = 1.5 * Math.cos((2 * Math.PI * c) / chains);
    let y = 1.5 * Math.sin((2 * Math.PI * c) / chains);
    return Array.from({ length: steps }, (_, s) => {
      x = 0.97 * x + 0.05 * z[(c * steps + s) * 2]!;
      y = 0.97 * y + 0.05 * z[(c * steps + s) * 2 + 1]!;
      return [x, y];
    });
  });
}

describe('plotTrajectories', () => {
  it('draws one path per chain with start and end markers over the landscape', async () => {
    const traj = walks(12, 150, 11);
    const fig = await plotTrajectories(traj, {
      energy: new TestDoubleWell(),
      xRange: [-2, 2],
      yRange: [-2, 2],
      resolution: 60,
    });
    const { svg, png } = renderBoth(fig, 'trajectories');
    expect(fig.title).toBe('Trajectories (12 chains, 150 steps)');
    const lines = svg.split('aria-label="line"')[1]!.split('</g>')[0]!;
    expect((lines.match(/<path/g) ?? []).length).toBe(12);
    expect(byAria(svg, 'dot')).toBe(2); // starts and ends
    expect(svg).toContain('○ start');
    expect(byAria(svg, 'raster')).toBe(1);
    expect(png.nonBackground).toBeGreaterThan(0.4 * png.width * png.height);
  });

  it('handles many long chains from a tensor: thinned for drawing, no leaks', async () => {
    const traj = walks(200, 5000, 12);
    const t = tf.tensor3d(traj.flat(2), [200, 5000, 2]);
    const fig = await expectNoLeaks(() => plotTrajectories(t, { maxPointsPerChain: 500 }));
    t.dispose();
    expect(fig.data['chains']).toBe(200);
    expect(fig.data['drawnPointsPerChain']).toBeLessThanOrEqual(501);
    const { svg, png } = renderBoth(fig, 'trajectories-many');
    expect(elementCount(svg)).toBeLessThan(200 * 3 + 300);
    expect(png.nonBackground).toBeGreaterThan(0.1 * png.width * png.height);
  });

  it('rejects ragged, empty and mis-shaped trajectories', async () => {
    await expectEbmError(plotTrajectories([]), 'INVALID_PARAM', 'trajectories');
    await expectEbmError(
      plotTrajectories([
        [
          [0, 0],
          [1, 1],
        ],
        [[0, 0]],
      ]),
      'SHAPE_MISMATCH',
      'trajectories',
    );
    const t = tf.zeros([2, 3, 3]) as tf.Tensor3D;
    await expectEbmError(plotTrajectories(t), 'SHAPE_MISMATCH', 'trajectories');
    t.dispose();
    await expectEbmError(plotTrajectories([[[0, Number.POSITIVE_INFINITY]]]), 'NON_FINITE');
    await expectEbmError(
      plotTrajectories([[[0, 0]]], { maxPointsPerChain: 1 }),
      'INVALID_PARAM',
      'maxPointsPerChain',
    );
  });
});
