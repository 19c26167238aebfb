/**
 * The bad-input matrix of @ebm/cuda, the part that runs on the cpu backend (no GPU): kernel and energy names,
 * WGSL energy dimensions, setup options and the MLP hint × the classic bad values must give a clear EbmError
 * (see `badInputCases` in @ebm/core/testing). The kernels' tensor inputs need WebGPU: `webgpu` tests.
 */
import { type BadInputCase, badInputCases, describeBadInputMatrix } from '@ebm/core/testing';
import { describe, it } from 'vitest';
import * as cuda from '../src/index.js';
import {
  chainTraceKernelName,
  makeChainKernel,
  makeChainTraceKernel,
  mlpKernelHint,
  setDefaultMlpVariant,
  setSeparableChainVariant,
  setupWebGpu,
  useTfjsNodeGpu,
  wgslEnergy,
} from '../src/index.js';

const cases: BadInputCase[] = [
  ...badInputCases('wgslEnergy', 'kind', { type: 'name' }, (v) => wgslEnergy(v as string, {}, 2), {
    codes: {
      'unknown name': ['NOT_IMPLEMENTED', 'INVALID_PARAM'],
      'wrong type': ['NOT_IMPLEMENTED', 'INVALID_PARAM'],
    },
  }),
  ...badInputCases('wgslEnergy', 'dim', { type: 'number', min: 'positive', integer: true }, (v) =>
    wgslEnergy('doubleWell', { barrierHeight: 2, b: 1 }, v as number),
  ),
  ...badInputCases(
    'chainTraceKernelName',
    'kind',
    { type: 'name' },
    (v) => chainTraceKernelName(v as string),
    {
      skip: ['unknown name'], // a registry name: plugins may add kinds
    },
  ),
  ...badInputCases('makeChainKernel', 'kind', { type: 'name' }, (v) => makeChainKernel(v as string), {
    codes: { 'unknown name': ['NOT_IMPLEMENTED'], 'wrong type': ['NOT_IMPLEMENTED', 'INVALID_PARAM'] },
  }),
  ...badInputCases(
    'makeChainTraceKernel',
    'kind',
    { type: 'name' },
    (v) => makeChainTraceKernel(v as string),
    {
      codes: { 'unknown name': ['NOT_IMPLEMENTED'], 'wrong type': ['NOT_IMPLEMENTED', 'INVALID_PARAM'] },
    },
  ),
  ...badInputCases('mlpKernelHint', 'energy', { type: 'object', wrong: { config: 5 } }, (v) =>
    mlpKernelHint(v as never),
  ),
  ...badInputCases('setSeparableChainVariant', 'variant', { type: 'name' }, (v) =>
    setSeparableChainVariant(v),
  ),
  ...badInputCases('setDefaultMlpVariant', 'variant', { type: 'name' }, (v) =>
    setDefaultMlpVariant(v as string),
  ),
  ...badInputCases('setupWebGpu', 'options', { type: 'options' }, (v) => setupWebGpu(v as never)),
  ...badInputCases('useTfjsNodeGpu', 'options', { type: 'options' }, (v) => useTfjsNodeGpu(v as never)),
];

const EXEMPT: Record<string, string> = {
  CHAIN_KINDS: 'a constant',
  MAX_STEPS_PER_DISPATCH: 'a constant',
  MLP_MAX_WIDTH: 'a constant',
  SEPARABLE_CHAIN_KINDS: 'a constant',
  WEBGPU_BACKEND: 'a constant',
  WEBGPU_KERNEL_NAMES: 'a constant',
  WGSL_ENERGY_KINDS: 'a constant',
  detectTfjsNodeGpu: 'no input (environment probe)',
  isSoftwareAdapter: 'a predicate on adapter info',
  registerWebGpuKernels: 'no input',
  separableChainVariant: 'no input (internal, benchmarks)',
  separableVariantLabel: 'internal (benchmarks): labels a variant setSeparableChainVariant validated',
  langevinStepWebGpu: 'WebGPU tensors only (webgpu tests)',
  randomNormalWebGpu: 'WebGPU tensors only (webgpu tests)',
  randomUniformWebGpu: 'WebGPU tensors only (webgpu tests)',
};

describeBadInputMatrix({ describe, it }, '@ebm/cuda', cases, cuda, EXEMPT, { suffix: '(cpu)' });
