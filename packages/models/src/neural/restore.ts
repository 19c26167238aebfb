import { EbmError } from '@ebm/core';
import type { NeuralEnergy } from './base.js';
import { ConvEnergy, type ConvEnergyConfig } from './conv.js';
import { MLPEnergy, type MLPEnergyConfig } from './mlp.js';
import { artifactFromJSON, type WeightsArtifact, type WeightsJSON } from './serialize.js';
import { validateArtifact } from './validate.js';

/**
 * Rebuilds a neural energy from a saved artifact (binary or JSON): constructs the architecture named in the
 * manifest's config and loads its weights bit-exactly. The artifact is untrusted: it is validated whole
 * ({@link validateArtifact}: fields, config, parameter layout, sizes against `MAX_ELEMENTS` and the payload,
 * finite values) before the network is built.
 */
export function restoreEnergy(source: WeightsArtifact | WeightsJSON | string): NeuralEnergy {
  if (source === null || (typeof source !== 'object' && typeof source !== 'string')) {
    throw new EbmError(
      'INVALID_PARAM',
      'restoreEnergy needs a weights artifact, its JSON object or its string.',
      {
        argument: 'source',
        value: source === null ? null : typeof source,
        fix: 'pass energy.toJSON(), JSON.stringify(energy), or await energy.saveWeights().',
      },
    );
  }
  const art =
    typeof source === 'string' || typeof (source as WeightsJSON).data === 'string'
      ? artifactFromJSON(source as WeightsJSON | string)
      : (source as WeightsArtifact);
  // Validate the whole document (fields, config, layout, sizes, finite values) before building anything.
  validateArtifact(art);
  const config = art.manifest.config;
  let energy: NeuralEnergy;
  if (config.type === 'mlp') {
    const c = config as unknown as MLPEnergyConfig;
    energy = new MLPEnergy({
      inputDim: c.inputDim,
      widths: c.widths,
      activation: c.activation,
      leakySlope: c.leakySlope,
      spectralNorm: c.spectralNormIterations > 0 ? { iterations: c.spectralNormIterations } : false,
    });
  } else if (config.type === 'conv') {
    const c = config as unknown as ConvEnergyConfig;
    energy = new ConvEnergy({
      inputShape: c.inputShape,
      channels: c.channels,
      kernelSize: c.kernelSize,
      activation: c.activation,
      leakySlope: c.leakySlope,
      spectralNorm: c.spectralNormIterations > 0 ? { iterations: c.spectralNormIterations } : false,
    });
  } else {
    throw new EbmError('INVALID_PARAM', `unknown neural energy type "${config.type}".`, {
      argument: 'config.type',
      value: config.type,
      fix: "restoreEnergy knows 'mlp' and 'conv'; load other energies with energy.loadWeights().",
    });
  }
  try {
    energy.loadWeights(art);
  } catch (e) {
    energy.dispose();
    throw e;
  }
  return energy;
}
