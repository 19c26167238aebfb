/**
 * Minibatch couplings between source (noise) and target (data) batches, shared by the flow-type losses:
 * independent, exact OT (Hungarian, or auction with ε-scaling), log-domain Sinkhorn with one draw per row,
 * greedy, unbalanced Sinkhorn with row weights, and reflow; host assignment solvers; a name registry.
 * @module
 */
export * from './assignment.js';
export * from './coupling.js';
export * from './ot.js';
export * from './reflow.js';
export * from './registry.js';
export * from './sinkhorn.js';
