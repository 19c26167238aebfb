import { EbmError } from '../errors.js';
import { tableauIntegrator } from './runge-kutta.js';
import { GENERALISED_LEAPFROG, LEAPFROG } from './symplectic.js';
import {
  ADAPTIVE_HEUN_TABLEAU,
  BACKWARD_EULER_TABLEAU,
  BOSH3_TABLEAU,
  DOPRI5_TABLEAU,
  DOPRI8_TABLEAU,
  EULER_TABLEAU,
  HEUN_TABLEAU,
  MIDPOINT_TABLEAU,
  RK4_TABLEAU,
  RK38_TABLEAU,
} from './tableaus.js';
import type {
  Integrator,
  IntegratorFamily,
  RungeKuttaIntegrator,
  RungeKuttaStepFn,
  SymplecticIntegrator,
  SymplecticStepFn,
} from './types.js';

/** Registry names of the built-in integrators. */
export type IntegratorName =
  | 'euler'
  | 'eulerMaruyama'
  | 'backwardEulerMaruyama'
  | 'heun'
  | 'midpoint'
  | 'rk4'
  | 'rk38'
  | 'adaptiveHeun'
  | 'bosh3'
  | 'dopri5'
  | 'dopri8'
  | 'leapfrog'
  | 'generalisedLeapfrog';

const BUILT_IN: Readonly<Record<IntegratorName, Integrator>> = Object.freeze({
  euler: tableauIntegrator('euler', EULER_TABLEAU),
  eulerMaruyama: tableauIntegrator('eulerMaruyama', EULER_TABLEAU),
  backwardEulerMaruyama: tableauIntegrator('backwardEulerMaruyama', BACKWARD_EULER_TABLEAU),
  heun: tableauIntegrator('heun', HEUN_TABLEAU),
  midpoint: tableauIntegrator('midpoint', MIDPOINT_TABLEAU),
  rk4: tableauIntegrator('rk4', RK4_TABLEAU),
  rk38: tableauIntegrator('rk38', RK38_TABLEAU),
  adaptiveHeun: tableauIntegrator('adaptiveHeun', ADAPTIVE_HEUN_TABLEAU),
  bosh3: tableauIntegrator('bosh3', BOSH3_TABLEAU),
  dopri5: tableauIntegrator('dopri5', DOPRI5_TABLEAU),
  dopri8: tableauIntegrator('dopri8', DOPRI8_TABLEAU),
  leapfrog: LEAPFROG,
  generalisedLeapfrog: GENERALISED_LEAPFROG,
});

/** Other spellings accepted by {@link getIntegrator} (TorchEBM's snake_case names, American spelling). */
const ALIASES: Readonly<Record<string, IntegratorName>> = Object.freeze({
  euler_maruyama: 'eulerMaruyama',
  em: 'eulerMaruyama',
  backward_euler_maruyama: 'backwardEulerMaruyama',
  backwardEuler: 'backwardEulerMaruyama',
  rk438: 'rk38',
  adaptive_heun: 'adaptiveHeun',
  generalised_leapfrog: 'generalisedLeapfrog',
  generalized_leapfrog: 'generalisedLeapfrog',
  generalizedLeapfrog: 'generalisedLeapfrog',
});

/** Every registry name (aliases aside). */
export const INTEGRATOR_NAMES: readonly IntegratorName[] = Object.keys(BUILT_IN) as IntegratorName[];

/**
 * The built-in integrator called `name` (TorchEBM's `get_integrator`): one of {@link INTEGRATOR_NAMES} or an
 * alias (`euler_maruyama`, `rk438`, `generalized_leapfrog`, …). Unknown names raise `INVALID_PARAM`.
 */
export function getIntegrator(name: string): Integrator {
  const key = (Object.hasOwn(BUILT_IN, name) ? name : ALIASES[name]) as IntegratorName | undefined;
  if (typeof name !== 'string' || key === undefined) {
    throw new EbmError('INVALID_PARAM', `Unknown integrator ${JSON.stringify(name)}.`, {
      argument: 'integrator',
      value: name,
      fix: `use one of ${INTEGRATOR_NAMES.join(', ')} (or pass an integrator object or step function).`,
    });
  }
  return BUILT_IN[key];
}

/** An integrator as a name, an integrator object, or a bare step function (see {@link resolveIntegrator}). */
export type IntegratorSpec = string | Integrator | RungeKuttaStepFn | SymplecticStepFn;

/** Constraints of {@link resolveIntegrator}. */
export interface ResolveIntegratorOptions<F extends IntegratorFamily = IntegratorFamily> {
  /** The family the caller needs (a bare function is wrapped as this family). */
  readonly family?: F;
  /** Used when `spec` is `undefined`. */
  readonly default?: IntegratorSpec;
  /** `'forbid'`: adaptive integrators are refused (SDEs, fixed grids); `'require'`: only adaptive ones. */
  readonly adaptive?: 'allow' | 'forbid' | 'require';
  /** Integrators accepted by name only from this list (e.g. Langevin's SDE-RK set). */
  readonly allowed?: readonly string[];
  /** Who asks (for messages), e.g. `'FlowSampler'`. */
  readonly owner?: string;
  /** Option name (for messages; default `'integrator'`). */
  readonly argument?: string;
}

type FamilyIntegrator<F extends IntegratorFamily> = F extends 'rungeKutta'
  ? RungeKuttaIntegrator
  : F extends 'symplectic'
    ? SymplecticIntegrator
    : Integrator;

/**
 * TorchEBM's `resolve_integrator`: turns a name, an integrator object or a step function into an integrator and
 * checks it against the caller's needs (family, adaptive or not, an allow-list). A bare function is wrapped as
 * an integrator of `options.family` (order unknown, not adaptive): a Runge–Kutta step
 * `(drift, x, t, h, options) => { x, nfe }` or a symplectic step `(state, system, h) => { x, p, nfe }`.
 */
export function resolveIntegrator<F extends IntegratorFamily = IntegratorFamily>(
  spec: IntegratorSpec | undefined,
  options: ResolveIntegratorOptions<F> = {},
): FamilyIntegrator<F> {
  const arg = options.argument ?? 'integrator';
  const who = options.owner ? `${options.owner}: ` : '';
  const s = spec ?? options.default;
  let integ: Integrator;
  if (typeof s === 'string') {
    if (options.allowed !== undefined && !options.allowed.includes(s)) {
      throw new EbmError('INVALID_PARAM', `${who}integrator ${JSON.stringify(s)} is not supported here.`, {
        argument: arg,
        value: s,
        fix: `use one of ${options.allowed.join(', ')}.`,
      });
    }
    try {
      integ = getIntegrator(s);
    } catch (e) {
      throw new EbmError('INVALID_PARAM', `${who}unknown integrator ${JSON.stringify(s)}.`, {
        argument: arg,
        value: s,
        fix: `use one of ${(options.allowed ?? INTEGRATOR_NAMES).join(', ')}.`,
        cause: e,
      });
    }
  } else if (typeof s === 'function') {
    if (options.family === undefined) {
      throw new EbmError('INVALID_PARAM', `${who}a bare step function needs a known family.`, {
        argument: arg,
        value: 'function',
        fix: 'pass an integrator object ({ family, name, step, ... }) or a registry name.',
      });
    }
    integ =
      options.family === 'symplectic'
        ? Object.freeze({
            family: 'symplectic',
            name: s.name || 'custom',
            order: undefined,
            separable: false,
            step: s as SymplecticStepFn,
          })
        : Object.freeze({
            family: 'rungeKutta',
            name: s.name || 'custom',
            order: undefined,
            adaptive: false,
            nfePerStep: Number.NaN,
            tableau: undefined,
            step: s as RungeKuttaStepFn,
          });
  } else if (
    s !== null &&
    typeof s === 'object' &&
    (s.family === 'rungeKutta' || s.family === 'symplectic') &&
    typeof s.step === 'function'
  ) {
    integ = s;
  } else {
    throw new EbmError('INVALID_PARAM', `${who}${arg} must be a name, an integrator or a step function.`, {
      argument: arg,
      value: s === null ? null : typeof s,
      fix: `use one of ${(options.allowed ?? INTEGRATOR_NAMES).join(', ')}.`,
    });
  }
  if (options.family !== undefined && integ.family !== options.family) {
    throw new EbmError(
      'INVALID_PARAM',
      `${who}${integ.name} is a ${integ.family} integrator; a ${options.family} one is needed.`,
      {
        argument: arg,
        value: integ.name,
        fix:
          options.family === 'symplectic'
            ? 'use leapfrog or generalisedLeapfrog.'
            : 'use a Runge–Kutta integrator such as euler, heun, rk4 or dopri5.',
      },
    );
  }
  if (integ.family === 'rungeKutta') {
    if (options.adaptive === 'forbid' && integ.adaptive) {
      throw new EbmError(
        'INVALID_PARAM',
        `${who}adaptive integrators (${integ.name}) are not allowed here.`,
        {
          argument: arg,
          value: integ.name,
          fix: 'use a fixed-step integrator: euler, heun, midpoint, rk4 or rk38.',
        },
      );
    }
    if (options.adaptive === 'require' && !integ.adaptive) {
      throw new EbmError('INVALID_PARAM', `${who}an adaptive integrator is needed (${integ.name} is not).`, {
        argument: arg,
        value: integ.name,
        fix: 'use adaptiveHeun, bosh3, dopri5 or dopri8.',
      });
    }
  }
  return integ as FamilyIntegrator<F>;
}
