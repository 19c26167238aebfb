/**
 * The training playground: trains an MLP energy on a 2-D dataset in the page with `@ebm/losses`' `fit` (Adam,
 * gradient clipping, a stop button through an `AbortSignal`) and draws, as it learns, the loss curve, the
 * energy landscape, and samples: 256 Langevin chains on the current energy, continued between redraws.
 */
import { isEbmError, rngKey, type SamplerState, stateTensors, uniformTensor } from '@ebm/core';
import { fit, type StepMetrics } from '@ebm/losses';
import { computeEnergyGrid } from '@ebm/viz';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CHOICES, type BackendChoice, pickBackend } from './backend.js';
import {
  BOX,
  LOSSES,
  type LossName,
  makeRecipe,
  PLAYGROUND_DATASETS,
  type PlaygroundDataset,
  standardData,
} from './recipes.js';
import { el, fmt, heatmapImage, numberInput, readNumber, select } from './ui.js';

const SIZE = 320;
const REDRAW = 10;
const N_VIEW = 256;

export async function mountPlayground(root: HTMLElement): Promise<() => void> {
  root.textContent = '';
  const q = new URLSearchParams(location.search);
  const dataset = select('dataset', 'Dataset', PLAYGROUND_DATASETS, q.get('dataset') ?? 'twoMoons');
  const lossSel = select('loss', 'Loss', LOSSES, q.get('loss') ?? 'pcd');
  const k = numberInput('k', 'Langevin steps k', 10, { min: '1', max: '100', step: '1' });
  const lr = numberInput('lr', 'Learning rate', 0.005, { min: '0.00001', max: '0.1', step: 'any' });
  const steps = numberInput('steps', 'Steps', Number(q.get('steps') ?? 400), {
    min: '1',
    max: '10000',
    step: '1',
  });
  const seed = numberInput('seed', 'Seed', 0, { min: '0', step: '1' });
  const backendSel = select(
    'backend',
    'Backend',
    Object.fromEntries(BACKEND_CHOICES.map((b) => [b, b])),
    (BACKEND_CHOICES as readonly string[]).includes(q.get('backend') ?? '') ? q.get('backend')! : 'auto',
  );
  const trainBtn = el('button', { type: 'button', class: 'ebm-btn', 'data-action': 'train', text: 'Train' });
  const stopBtn = el('button', { type: 'button', class: 'ebm-btn', 'data-action': 'stop', text: 'Stop' });
  stopBtn.disabled = true;
  const controls = el('form', { class: 'ebm-controls' }, [
    dataset.field,
    lossSel.field,
    k.field,
    lr.field,
    steps.field,
    seed.field,
    backendSel.field,
    trainBtn,
    stopBtn,
  ]);
  const land = el('canvas', {
    width: String(SIZE),
    height: String(SIZE),
    class: 'ebm-main',
    'aria-label': 'learned energy and samples',
  });
  const curve = el('canvas', {
    width: String(SIZE),
    height: String(SIZE / 2),
    class: 'ebm-curve',
    'aria-label': 'loss curve',
  });
  const fields = { backend: 'Backend', step: 'Step', loss: 'Loss', msPerStep: 'ms per step' } as const;
  const out = {} as Record<keyof typeof fields, HTMLElement>;
  const stats = el('dl', { class: 'ebm-diag' });
  for (const [f, label] of Object.entries(fields) as [keyof typeof fields, string][]) {
    out[f] = el('dd', { 'data-field': f, text: '–' });
    stats.append(el('dt', { text: label }), out[f]);
  }
  const status = el('p', { class: 'ebm-status', role: 'status', text: 'Press Train.' });
  root.append(controls, el('div', { class: 'ebm-row' }, [land, el('div', {}, [curve, stats])]), status);
  root.dataset.state = 'idle';

  let abort: AbortController | undefined;
  let running: Promise<void> | undefined;
  const toPx = (v: number) => ((v + BOX) / (2 * BOX)) * SIZE;

  function drawCurve(history: readonly number[]): void {
    const g = curve.getContext('2d')!;
    g.clearRect(0, 0, curve.width, curve.height);
    if (history.length < 2) return;
    const lo = Math.min(...history);
    const hi = Math.max(...history);
    const span = hi - lo || 1;
    g.strokeStyle = '#3c6e71';
    g.lineWidth = 1.5;
    g.beginPath();
    history.forEach((v, i) => {
      const x = (i / (history.length - 1)) * (curve.width - 8) + 4;
      const y = curve.height - 4 - ((v - lo) / span) * (curve.height - 8);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
    g.fillStyle = 'currentColor';
    g.font = '11px sans-serif';
    g.fillStyle = '#888';
    g.fillText(`loss ${hi.toFixed(3)}`, 6, 12);
    g.fillText(`${lo.toFixed(3)}`, 6, curve.height - 6);
  }

  async function train(): Promise<void> {
    abort = new AbortController();
    const signal = abort.signal;
    trainBtn.disabled = true;
    stopBtn.disabled = false;
    root.dataset.state = 'training';
    status.textContent = 'Training…';
    const picked = await pickBackend(backendSel.input.value as BackendChoice);
    out.backend.textContent = picked.note;
    root.dataset.backend = picked.name;
    const s = Math.round(readNumber(seed.input, 0, 0, 2 ** 31));
    const nSteps = Math.round(readNumber(steps.input, 400, 1, 10_000));
    const data = standardData(dataset.input.value as PlaygroundDataset, 2000, s);
    const points = await data.data();
    const recipe = makeRecipe(
      lossSel.input.value as LossName,
      Math.round(readNumber(k.input, 10, 1, 100)),
      s,
    );
    const optimizer = tf.train.adam(readNumber(lr.input, 0.005, 1e-5, 0.1));
    let view: SamplerState | undefined;
    const x0 = uniformTensor(rngKey(s + 7), [N_VIEW, 2], -BOX, BOX) as tf.Tensor2D;
    const losses: number[] = [];
    let t0 = performance.now();
    const redraw = async (step: number) => {
      const grid = await computeEnergyGrid(recipe.energy, { xRange: [-BOX, BOX], resolution: 48 });
      const r = await recipe.sampler.sample({
        ...(view === undefined ? { x0 } : { resumeFrom: view }),
        nSteps: 20,
        seed: s + step,
        keepState: true,
      });
      const keep = new Set(stateTensors(r.finalState ?? {}));
      const samples = await r.samples.data();
      if (!keep.has(r.samples)) r.samples.dispose();
      if (view !== undefined) recipe.sampler.disposeState(view);
      view = r.finalState;
      const off = el('canvas', { width: String(grid.nx), height: String(grid.ny) });
      off.getContext('2d')!.putImageData(heatmapImage(grid.values, grid.nx, grid.ny), 0, 0);
      const g = land.getContext('2d')!;
      g.imageSmoothingEnabled = true;
      g.drawImage(off, 0, 0, SIZE, SIZE);
      g.fillStyle = 'rgba(255,255,255,0.35)';
      // every few rows across the whole set: the generators list their clusters in order
      const stride = Math.max(1, Math.floor(points.length / 2 / 800));
      for (let i = 0; i < points.length / 2; i += stride) {
        g.fillRect(toPx(points[2 * i]!) - 1, SIZE - toPx(points[2 * i + 1]!) - 1, 2, 2);
      }
      g.fillStyle = '#ff5a36';
      for (let i = 0; i < samples.length / 2; i++) {
        g.beginPath();
        g.arc(toPx(samples[2 * i]!), SIZE - toPx(samples[2 * i + 1]!), 2, 0, 2 * Math.PI);
        g.fill();
      }
    };
    try {
      await redraw(0);
      await fit({
        loss: recipe.loss,
        optimizer,
        data,
        batchSize: 128,
        steps: nSteps,
        seed: s,
        clipNorm: 10,
        signal,
        onStep: async (m: StepMetrics) => {
          losses.push(m.loss);
          out.step.textContent = String(m.step + 1);
          out.loss.textContent = fmt(m.loss, 4);
          root.dataset.steps = String(m.step + 1);
          root.dataset.firstLoss = String(losses[0]);
          root.dataset.lastLoss = String(m.loss);
          if ((m.step + 1) % REDRAW === 0 || m.step + 1 === nSteps) {
            out.msPerStep.textContent = fmt((performance.now() - t0) / REDRAW, 1);
            drawCurve(losses);
            await redraw(m.step + 1);
            t0 = performance.now();
          } else await new Promise((r) => setTimeout(r, 0));
        },
      });
      root.dataset.state = 'done';
      status.textContent = `Done: ${losses.length} steps.`;
    } catch (e) {
      if (isEbmError(e, 'ABORTED')) {
        root.dataset.state = 'stopped';
        status.textContent = `Stopped after ${losses.length} steps.`;
      } else {
        root.dataset.state = 'error';
        status.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
        console.error(e);
      }
    } finally {
      drawCurve(losses);
      if (view !== undefined) recipe.sampler.disposeState(view);
      x0.dispose();
      data.dispose();
      optimizer.dispose();
      recipe.loss.dispose?.();
      recipe.energy.dispose();
      trainBtn.disabled = false;
      stopBtn.disabled = true;
    }
  }

  controls.addEventListener('submit', (e) => e.preventDefault());
  trainBtn.addEventListener('click', () => {
    running = train();
  });
  stopBtn.addEventListener('click', () => abort?.abort());
  return () => {
    abort?.abort();
    void running;
  };
}
