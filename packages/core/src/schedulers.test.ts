import { describe, expect, it } from 'vitest';
import {
  BaseScheduler,
  ConstantScheduler,
  CosineScheduler,
  ExponentialDecayScheduler,
  LinearScheduler,
  MultiStepScheduler,
  registerSchedulerType,
  schedulerFromJSON,
  TemperatureScheduler,
  toScheduler,
  WarmupScheduler,
} from './schedulers.js';

function run(s: BaseScheduler, n: number): number[] {
  s.reset();
  const out = [s.value];
  for (let i = 0; i < n; i++) out.push(s.step());
  return out;
}

describe('schedulers (TorchEBM semantics)', () => {
  it('constant', () => {
    expect(run(new ConstantScheduler(0.1), 3)).toEqual([0.1, 0.1, 0.1, 0.1]);
  });
  it('exponential decay: max(min, v0 r^n)', () => {
    const v = run(new ExponentialDecayScheduler(1, 0.5, 0.2), 4);
    expect(v).toEqual([1, 0.5, 0.25, 0.2, 0.2]);
  });
  it('linear: v0 + n (v_end - v0)/N, then v_end', () => {
    const v = run(new LinearScheduler(1, 0, 4), 6);
    expect(v).toEqual([1, 0.75, 0.5, 0.25, 0, 0, 0]);
  });
  it('cosine: v_end + (v0 - v_end)(1 + cos(pi n/N))/2', () => {
    const v = run(new CosineScheduler(1, 0, 4), 5);
    expect(v[0]).toBeCloseTo(1, 12);
    expect(v[1]).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(v[2]).toBeCloseTo(0.5, 12);
    expect(v[4]).toBe(0);
    expect(v[5]).toBe(0);
  });
  it('multistep: v0 gamma^(#milestones <= n)', () => {
    const v = run(new MultiStepScheduler(1, [2, 4], 0.1), 5);
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(1);
    expect(v[2]).toBeCloseTo(0.1, 12);
    expect(v[3]).toBeCloseTo(0.1, 12);
    expect(v[4]).toBeCloseTo(0.01, 12);
  });
  it('warmup: linear from v0*factor to v0 over W steps, then the main schedule in lockstep', () => {
    const main = new LinearScheduler(1, 0, 2);
    const w = new WarmupScheduler(main, 4, 0.2);
    const v = run(w, 7);
    expect(v.slice(0, 5).map((x) => +x.toFixed(10))).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(v[5]).toBeCloseTo(0.5, 12); // main after 1 step
    expect(v[6]).toBe(0);
    expect(main.n).toBe(3);
    w.reset();
    expect(main.n).toBe(0);
    expect(new WarmupScheduler(new ConstantScheduler(3), 0).value).toBe(3);
  });
  it('temperature: ramps from tau* to 1, sqrt by default', () => {
    const s = new TemperatureScheduler(4, { tauStar: 0.5, nSteps: 10 });
    expect(s.valueAt(0)).toBe(0);
    expect(s.valueAt(5)).toBe(0);
    expect(s.valueAt(7)).toBeCloseTo(Math.sqrt((4 * 0.2) / 0.5), 12);
    expect(s.valueAt(10)).toBe(2);
    expect(s.valueAt(50)).toBe(2);
    expect(new TemperatureScheduler(4, { tauStar: 0.5, nSteps: 10, sqrt: false }).valueAt(10)).toBe(4);
  });
  it('round-trips through JSON with its step count, nested schedulers included', () => {
    const all: BaseScheduler[] = [
      new ConstantScheduler(2),
      new ExponentialDecayScheduler(1, 0.9, 0.1),
      new LinearScheduler(1, 3, 5),
      new CosineScheduler(1, 0, 9),
      new MultiStepScheduler(1, [1, 3], 0.5),
      new WarmupScheduler(new CosineScheduler(1, 0.1, 5), 3, 0.1),
      new TemperatureScheduler(2, { tauStar: 0.2, nSteps: 7, tStart: 0.1, tEnd: 1.2 }),
    ];
    for (const s of all) {
      s.reset();
      s.step();
      s.step();
      s.step();
      s.step();
      const r = schedulerFromJSON(JSON.parse(JSON.stringify(s.toJSON())));
      expect(r.constructor).toBe(s.constructor);
      expect(r.n).toBe(4);
      expect(r.value).toBe(s.value);
      expect(r.step()).toBe(s.step());
    }
  });
  it('rejects bad arguments with EbmError INVALID_PARAM', () => {
    expect(() => new ConstantScheduler(Number.NaN)).toThrowError(/NON_FINITE.*startValue/);
    expect(() => new ExponentialDecayScheduler(1, 0)).toThrowError(/decayRate/);
    expect(() => new ExponentialDecayScheduler(1, 1.5)).toThrowError(/decayRate/);
    expect(() => new LinearScheduler(1, 0, 0)).toThrowError(/nSteps/);
    expect(() => new CosineScheduler(1, 0, 2.5)).toThrowError(/nSteps/);
    expect(() => new MultiStepScheduler(1, [3, 2])).toThrowError(/strictly increasing/);
    expect(() => new MultiStepScheduler(1, [])).toThrowError(/milestones/);
    expect(() => new MultiStepScheduler(1, [0])).toThrowError(/milestones\[0\]/);
    expect(() => new WarmupScheduler({} as never, 2)).toThrowError(/main must be a scheduler/);
    expect(() => new TemperatureScheduler(1, { tauStar: 1 })).toThrowError(/tauStar/);
    expect(() => new TemperatureScheduler(-1)).toThrowError(/epsilonMax/);
    expect(() => schedulerFromJSON({ type: 'nope', config: {}, n: 0 })).toThrowError(
      /Unknown scheduler type/,
    );
    expect(() => schedulerFromJSON(null as never)).toThrowError(/type/);
    expect(() => toScheduler('stepSize', 0)).toThrowError(/stepSize must be > 0/);
    expect(toScheduler('noiseScale', 0, { allowZero: true }).value).toBe(0);
    expect(() => toScheduler('stepSize', 'x' as never)).toThrowError(/number or a Scheduler/);
  });
  it('accepts plugin scheduler types', () => {
    class Twice extends BaseScheduler {
      readonly type = 'twice-test';
      valueAt(n: number) {
        return 2 * n;
      }
      protected config() {
        return {};
      }
    }
    registerSchedulerType('twice-test', () => new Twice());
    expect(() => registerSchedulerType('twice-test', () => new Twice())).toThrowError(/already registered/);
    const s = new Twice();
    s.step();
    expect(schedulerFromJSON(s.toJSON()).value).toBe(2);
  });
});

describe('option names (TorchEBM keyword arguments as an options object)', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as { code: string; message: string; argument: string };
    }
    throw new Error('expected an EbmError');
  };
  it('every constructor takes its arguments as one object, equal to the positional call', () => {
    const main = new CosineScheduler(1, 0.1, 10);
    const pairs: [BaseScheduler, BaseScheduler][] = [
      [new ConstantScheduler({ startValue: 2 }), new ConstantScheduler(2)],
      [
        new ExponentialDecayScheduler({ startValue: 1, decayRate: 0.9, minValue: 0.2 }),
        new ExponentialDecayScheduler(1, 0.9, 0.2),
      ],
      [new LinearScheduler({ startValue: 1, endValue: 0, nSteps: 4 }), new LinearScheduler(1, 0, 4)],
      [new CosineScheduler({ startValue: 1, endValue: 0, nSteps: 4 }), new CosineScheduler(1, 0, 4)],
      [
        new MultiStepScheduler({ startValue: 1, milestones: [2, 4], gamma: 0.5 }),
        new MultiStepScheduler(1, [2, 4], 0.5),
      ],
      [
        new WarmupScheduler({ main, warmupSteps: 3, warmupInitFactor: 0.1 }),
        new WarmupScheduler(new CosineScheduler(1, 0.1, 10), 3, 0.1),
      ],
      [
        new TemperatureScheduler({ epsilonMax: 1, tauStar: 0.5, nSteps: 10 }),
        new TemperatureScheduler(1, { tauStar: 0.5, nSteps: 10 }),
      ],
    ];
    for (const [a, b] of pairs) {
      expect(run(a, 12)).toEqual(run(b, 12));
      expect(a.toJSON()).toEqual(b.toJSON());
    }
  });
  it.each([
    ['ConstantScheduler', () => new ConstantScheduler({ start_value: 1 } as never), 'startValue'],
    [
      'ExponentialDecayScheduler',
      () => new ExponentialDecayScheduler({ startValue: 1, decay_rate: 0.9 } as never),
      'decayRate',
    ],
    [
      'LinearScheduler',
      () => new LinearScheduler({ startValue: 1, endValue: 0, n_steps: 3 } as never),
      'nSteps',
    ],
    [
      'CosineScheduler',
      () => new CosineScheduler({ startValue: 1, endValue: 0, nStep: 3 } as never),
      'nSteps',
    ],
    [
      'MultiStepScheduler',
      () => new MultiStepScheduler({ startValue: 1, milestone: [2] } as never),
      'milestones',
    ],
    [
      'WarmupScheduler',
      () => new WarmupScheduler({ main_scheduler: new ConstantScheduler(1), warmupSteps: 2 } as never),
      'main',
    ],
    ['TemperatureScheduler', () => new TemperatureScheduler(1, { tau_star: 0.5 } as never), 'tauStar'],
    ['TemperatureScheduler', () => new TemperatureScheduler({ epsilon_max: 1 } as never), 'epsilonMax'],
    [
      'schedulerFromJSON (linear)',
      () => schedulerFromJSON({ type: 'linear', config: { startValue: 1, endValue: 0, n_steps: 3 }, n: 0 }),
      'nSteps',
    ],
  ])('%s rejects a misspelt name and suggests the right one', (owner, make, hint) => {
    const e = err(make);
    expect(e.code).toBe('INVALID_PARAM');
    expect(e.message).toContain(owner);
    expect(e.message).toContain(`Did you mean "${hint}"?`);
  });
});

/**
 * TorchEBM's schedules (`torchebm/core/base_scheduler.py`, v0.7.11) at their edges, value by value: the formulas
 * of the "Deviations from TorchEBM" page. Each expected array is TorchEBM's `[get_value()] + [step() × n]`.
 */
describe('TorchEBM parity at the edges', () => {
  it('step 0 is the start value; the end value holds from step N on (linear, cosine)', () => {
    expect(run(new LinearScheduler(1, 0, 4), 6)).toEqual([1, 0.75, 0.5, 0.25, 0, 0, 0]);
    const c = run(new CosineScheduler(1, 0, 2), 3);
    expect(c[0]).toBe(1);
    expect(c[1]).toBeCloseTo(0.5, 15);
    expect(c.slice(2)).toEqual([0, 0]);
  });
  it('exponential decay clamps at minValue (max(min, v0·r^n)); r = 1 is constant', () => {
    expect(run(new ExponentialDecayScheduler(1, 0.5, 0.2), 4)).toEqual([1, 0.5, 0.25, 0.2, 0.2]);
    expect(run(new ExponentialDecayScheduler(2, 1), 2)).toEqual([2, 2, 2]);
  });
  it('multi-step counts milestones m <= n (the drop happens at step m)', () => {
    expect(run(new MultiStepScheduler(1, [2, 3], 0.5), 4)).toEqual([1, 1, 0.5, 0.25, 0.25]);
  });
  it('warm-up: linear from v0·factor at n = 0 to v0 at n = W, then the main schedule at n − W', () => {
    const w = new WarmupScheduler(new LinearScheduler(1, 0, 2), 2, 0.5);
    expect(run(w, 5)).toEqual([0.5, 0.75, 1, 0.5, 0, 0]);
  });
  it('zero-length warm-up is the main schedule from step 0 (TorchEBM: v0·factor at n = 0, then main)', () => {
    const w = new WarmupScheduler(new LinearScheduler(1, 0, 2), 0, 0.5);
    expect(run(w, 3)).toEqual([1, 0.5, 0, 0]);
  });
  it('temperature: 0 before τ*, a ramp to ε_max at t = 1, then flat; √ε by default; tEnd < tStart refused', () => {
    const t = new TemperatureScheduler(4, { tauStar: 0.5, nSteps: 4, sqrt: false });
    expect(run(t, 5)).toEqual([0, 0, 0, 2, 4, 4]);
    expect(new TemperatureScheduler(4, { tauStar: 0.5, nSteps: 4 }).valueAt(3)).toBeCloseTo(Math.SQRT2, 15);
    expect(() => new TemperatureScheduler(1, { tStart: 1, tEnd: 0 })).toThrow(/tEnd must be >= tStart/);
  });
});
