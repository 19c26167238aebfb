import { EbmError } from '../errors.js';
import { type Coupling, IndependentCoupling } from './coupling.js';
import { ExactOTCoupling, GreedyCoupling } from './ot.js';
import { SinkhornCoupling, UnbalancedSinkhornCoupling } from './sinkhorn.js';

/** Registry names of the built-in couplings (reflow needs a flow, so it has no name). */
export type CouplingName = 'independent' | 'exactOt' | 'sinkhorn' | 'greedy' | 'unbalancedSinkhorn';

/** Every registry name. */
export const COUPLING_NAMES: readonly CouplingName[] = [
  'independent',
  'exactOt',
  'sinkhorn',
  'greedy',
  'unbalancedSinkhorn',
];

const ALIASES: Readonly<Record<string, CouplingName>> = Object.freeze({
  ot: 'exactOt',
  exact_ot: 'exactOt',
  exactOT: 'exactOt',
  unbalanced_sinkhorn: 'unbalancedSinkhorn',
});

/** A coupling as a registry name or an object. */
export type CouplingSpec = Coupling | CouplingName | 'ot' | 'exact_ot' | 'unbalanced_sinkhorn';

/**
 * A new built-in coupling with default settings (TorchEBM's `get_coupling`): `independent`, `exactOt` (alias
 * `ot`, `exact_ot`), `sinkhorn`, `greedy`, `unbalancedSinkhorn` (alias `unbalanced_sinkhorn`).
 */
export function getCoupling(name: string): Coupling {
  const key = (COUPLING_NAMES as readonly string[]).includes(name) ? (name as CouplingName) : ALIASES[name];
  switch (key) {
    case 'independent':
      return new IndependentCoupling();
    case 'exactOt':
      return new ExactOTCoupling();
    case 'sinkhorn':
      return new SinkhornCoupling();
    case 'greedy':
      return new GreedyCoupling();
    case 'unbalancedSinkhorn':
      return new UnbalancedSinkhornCoupling();
    default:
      throw new EbmError('INVALID_PARAM', `Unknown coupling ${JSON.stringify(name)}.`, {
        argument: 'coupling',
        value: name,
        fix: `use one of ${COUPLING_NAMES.join(', ')}, or pass a coupling object (e.g. new ReflowCoupling(flow)).`,
      });
  }
}

/** TorchEBM's `resolve_coupling`: a name or a coupling object (default: `fallback`, itself a spec). */
export function resolveCoupling(
  spec: unknown,
  fallback: CouplingSpec = 'independent',
  owner?: string,
): Coupling {
  const s = spec ?? fallback;
  if (typeof s === 'string') return getCoupling(s);
  const c = s as Coupling | null;
  if (c !== null && typeof c === 'object' && typeof c.couple === 'function') return c;
  throw new EbmError('INVALID_PARAM', `${owner ? `${owner}: ` : ''}coupling must be a name or a coupling.`, {
    argument: 'coupling',
    value: c === null ? null : typeof c,
    fix: `use one of ${COUPLING_NAMES.join(', ')}, or an object with couple(x0, x1, key).`,
  });
}
