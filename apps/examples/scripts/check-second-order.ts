/**
 * Checks the parameter gradient of score-matching terms built on ∇ₓE of an `MLPEnergy` against central finite
 * differences (RECIPES.md, "SSM: the second-order gradients (fixed)"). Usage:
 *
 *   tsx scripts/check-second-order.ts [all|g|h] [silu|tanh|elu|leakyRelu]
 *
 * `g`: ½‖∇ₓE‖² (DSM's term), `h`: vᵀ∇²ₓE v (SSM's trace term, through `gradAndHvp`), `all`: the SSM-VR loss.
 * Before the fix (tfjs's sigmoid/tanh/exp/elu gradients read the saved output, which an outer tape cannot
 * differentiate): the last layer agreed to 5 digits, the inner layers were off by up to 2.5×, and with tanh the
 * nested gradient threw. Since `@ebm/models`' activations are exact at every order (`neural/activations.ts`):
 * worst relative error ≤ 0.003 for silu and tanh on all three terms (cpu, 2 → 8 → 8 → 1, seed 1). For elu and
 * leakyRelu an entry or two can differ because the ±1e-2 step crosses a kink of elu'' / leakyRelu';
 * `packages/losses/test/second-order.test.ts` checks every entry with a smaller step and skips kink crossings.
 */
import '@tensorflow/tfjs-backend-cpu';
import { gradAndHvp, variablesOf } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

await tf.setBackend('cpu');
const term = process.argv[2] ?? 'all';
const activation = (process.argv[3] ?? 'silu') as 'silu';
const e = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation, seed: 1 });
const x = tf.tensor2d([0.3, -0.5, 1.2, 0.4, -0.7, 0.9, 0.1, 0.1], [4, 2]);
const v = tf.tensor2d([1, -1, -1, 1, 1, 1, -1, -1], [4, 2]);
const L = () =>
  tf.tidy(() => {
    const r = gradAndHvp(e, x, v);
    const g2 = tf.mean(tf.mul(0.5, tf.sum(tf.square(r.grad), 1)));
    const vhv = tf.mean(tf.sum(tf.mul(r.hv, v), 1));
    r.grad.dispose();
    return (term === 'g' ? g2 : term === 'h' ? vhv : tf.sub(g2, vhv)) as tf.Scalar;
  });
const vars = variablesOf(e);
const { grads } = tf.variableGrads(L, vars);
let worst = 0;
for (const w of vars) {
  if (!grads[w.name]) continue;
  const g = await grads[w.name]!.data();
  const base = Float32Array.from(await w.data());
  const out: string[] = [];
  for (const i of [0, 1, Math.floor(base.length / 2)]) {
    const eps = 1e-2;
    const at = async (d: number) => {
      const p = base.slice();
      p[i] = base[i]! + d;
      w.assign(tf.tensor(p, w.shape));
      const l = L();
      const r = (await l.data())[0]!;
      l.dispose();
      return r;
    };
    const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
    w.assign(tf.tensor(base, w.shape));
    worst = Math.max(worst, Math.abs(g[i]! - fd) / Math.max(1e-3, Math.abs(fd)));
    out.push(`[${i}] autodiff ${g[i]!.toFixed(5)} fd ${fd.toFixed(5)}`);
  }
  console.log(`${w.name} ${w.shape.join('x')}  ${out.join('  ')}`);
}
console.log(`worst relative error ${worst.toFixed(3)} (float32 finite differences agree to ~1e-3)`);
