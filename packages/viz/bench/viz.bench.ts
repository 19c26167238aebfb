import { bench, describe } from 'vitest';
import { plotEnergyLandscape, plotSamples, toPng, toSvg } from '../src/node.js';
import { normals, TestDoubleWell } from '../test/helpers.js';

const z = normals(200_000, 1);
const cloud = { x: z.slice(0, 100_000), y: z.slice(100_000) };
const energy = new TestDoubleWell();

describe('@ebm/viz', () => {
  bench('plotEnergyLandscape 200×200 (cpu) + toSvg', async () => {
    toSvg(await plotEnergyLandscape(energy, { resolution: 200 }));
  });
  bench('plotSamples 100k points (raster) + toSvg', async () => {
    toSvg(await plotSamples(cloud));
  });
  bench('plotSamples 100k points (raster) + toPng', async () => {
    toPng(await plotSamples(cloud));
  });
});
