import type { EnergyFunction } from '@ebm/core';
import { assertKnownOptions } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import {
  axisRanges,
  checkInt,
  checkSize,
  type Range,
  type TrajectoriesInput,
  toTrajectories,
} from './data.js';
import { type Figure, type PlotPanel, TITLE_BAND } from './figure.js';
import {
  type EnergyGrid,
  givenGrid,
  type LandscapeStyle,
  LEGEND_BAND,
  landscapeLayer,
  legendPanel,
  MARGINS,
  maybeGrid,
} from './landscape.js';
import { pickOptions, VIZ_OPTION_KEYS } from './option-keys.js';
import { categoryColor, thinIndices } from './palette.js';

/** Options of {@link plotTrajectories}. */
export interface TrajectoriesOptions extends LandscapeStyle {
  /** Energy (or precomputed grid) drawn underneath the chains. */
  readonly energy?: EnergyFunction | EnergyGrid;
  /** x interval (default: the trajectories' extent padded by 10 %, or the grid's range). */
  readonly xRange?: Range;
  /** y interval. */
  readonly yRange?: Range;
  /** Grid resolution of the energy background (default 100). */
  readonly resolution?: number | readonly [number, number];
  /** Line opacity (default 0.8). */
  readonly opacity?: number;
  /** Line width in pixels (default 1.2). */
  readonly lineWidth?: number;
  /** Longer chains are thinned to at most this many points per chain for drawing (default 2000). */
  readonly maxPointsPerChain?: number;
  readonly title?: string;
  /** Figure width in pixels (default 560). */
  readonly width?: number;
  /** Figure height in pixels (default 560). */
  readonly height?: number;
}

/**
 * Chain trajectories in 2-D: one polyline per chain (Tableau 10 colours, cycled), a circle at the start and a
 * cross at the end of each chain, optionally over the energy landscape. Many chains are fine: each chain is
 * one SVG path, and long chains are thinned for drawing (`maxPointsPerChain`).
 *
 * @example
 * ```ts
 * // trajectory: [chains, steps, 2] tensor from a sampler run
 * const fig = await plotTrajectories(trajectory, { energy, xRange: [-2, 2], yRange: [-2, 2] });
 * ```
 */
export async function plotTrajectories(
  trajectories: TrajectoriesInput,
  options: TrajectoriesOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotTrajectories', options, VIZ_OPTION_KEYS.trajectories);
  const width = checkSize('width', options.width ?? 560, 200);
  const height = checkSize('height', options.height ?? 560, 200);
  const maxPts = checkInt('maxPointsPerChain', options.maxPointsPerChain ?? 2000, 2, 1e7);
  const chains = await toTrajectories('trajectories', trajectories);
  const { xr, yr } = axisRanges(chains, givenGrid(options.energy), options.xRange, options.yRange);
  const grid = await maybeGrid(options.energy, xr, yr, options.resolution);
  const layer = grid ? landscapeLayer(grid, pickOptions(options, VIZ_OPTION_KEYS.landscapeStyle)) : undefined;
  const steps = chains[0]!.x.length;
  const keep = thinIndices(steps, maxPts);
  const rows: { x: number; y: number; chain: number; color: string }[] = [];
  const starts: { x: number; y: number; color: string }[] = [];
  const ends: { x: number; y: number; color: string }[] = [];
  chains.forEach((c, k) => {
    const color = categoryColor(k);
    for (const i of keep) rows.push({ x: c.x[i]!, y: c.y[i]!, chain: k, color });
    starts.push({ x: c.x[0]!, y: c.y[0]!, color });
    ends.push({ x: c.x[steps - 1]!, y: c.y[steps - 1]!, color });
  });
  const plotHeight = height - TITLE_BAND - (layer ? LEGEND_BAND : 8) - 16;
  const panel: PlotPanel = {
    type: 'plot',
    x: 0,
    y: TITLE_BAND + 16,
    options: {
      ...MARGINS,
      width,
      height: plotHeight,
      x: { domain: [...xr], label: 'x₁' },
      y: { domain: [...yr], label: 'x₂' },
      ...(layer ? { color: layer.color } : {}),
      marks: [
        ...(layer?.marks ?? []),
        Plot.line(rows, {
          x: 'x',
          y: 'y',
          z: 'chain',
          stroke: (d: { color: string }) => d.color,
          strokeOpacity: options.opacity ?? 0.8,
          strokeWidth: options.lineWidth ?? 1.2,
        }),
        Plot.dot(starts, {
          x: 'x',
          y: 'y',
          r: 3.5,
          fill: 'white',
          stroke: (d: { color: string }) => d.color,
          strokeWidth: 1.5,
        }),
        Plot.dot(ends, {
          x: 'x',
          y: 'y',
          r: 4.5,
          symbol: 'times',
          stroke: (d: { color: string }) => d.color,
          strokeWidth: 2.2,
        }),
        Plot.frame(),
      ],
    },
  };
  return {
    kind: 'trajectories',
    title:
      options.title ??
      `Trajectories (${chains.length} chain${chains.length === 1 ? '' : 's'}, ${steps} steps)`,
    width,
    height,
    panels: layer ? [panel, legendPanel(layer.legend, height - LEGEND_BAND + 4, width)] : [panel],
    texts: [
      { x: width / 2, y: TITLE_BAND + 8, text: '○ start   × end', size: 11, anchor: 'middle', color: '#555' },
    ],
    data: { chains: chains.length, steps, drawnPointsPerChain: keep.length, xRange: xr, yRange: yr, grid },
  };
}
