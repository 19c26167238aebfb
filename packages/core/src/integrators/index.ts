/**
 * Integrators as one family of pure functions, selectable by name ({@link getIntegrator},
 * {@link resolveIntegrator}) or passed as objects or step functions:
 * - Runge–Kutta (ODE; SDE by adding noise at Euler order, {@link sdeStep}): euler / eulerMaruyama,
 *   backwardEulerMaruyama (implicit, Picard), heun, midpoint, rk4, rk38; adaptive embedded pairs adaptiveHeun,
 *   bosh3, dopri5, dopri8 ({@link adaptiveIntegrate}, {@link integrate}).
 * - Symplectic: leapfrog (velocity Verlet) and generalised (implicit) leapfrog.
 * @module
 */
export * from './adaptive.js';
export * from './integrate.js';
export * from './registry.js';
export * from './runge-kutta.js';
export * from './symplectic.js';
export * from './tableaus.js';
export type * from './types.js';
