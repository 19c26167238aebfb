/**
 * The sampler gallery: pick a target and a sampler, watch the chains move over the energy heatmap with marginal
 * histograms, and read acceptance, bulk ESS and split-R̂ (from `@ebm/core`'s diagnostics) as they update. The
 * chains run through the public API: `sampler.sample({ resumeFrom, keepState, nSteps, trajectory, diagnostics })`
 * in short chunks, so each frame continues the same seeded run. Settings live in the URL.
 */
import {
  essBulk,
  rngKey,
  type Sampler,
  type SamplerState,
  splitRhat,
  stateTensors,
  uniformTensor,
} from '@ebm/core';
import { computeEnergyGrid } from '@ebm/viz';
import type * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CHOICES, type BackendChoice, pickBackend } from './backend.js';
import { SAMPLERS, type SamplerName, TARGETS, type TargetName } from './targets.js';
import { el, fmt, heatmapImage, numberInput, readNumber, select } from './ui.js';

/** Settings of a run (all in the URL). */
export interface GallerySettings {
  target: TargetName;
  sampler: SamplerName;
  step: number;
  chains: number;
  seed: number;
  backend: BackendChoice;
}

const SIZE = 360;
const MARGIN = 56;
const CHUNK = 5;
/** Draws per chain kept for the histograms and the convergence diagnostics. */
const KEEP = 1000;
const TRAILS = 12;

function isKey<T extends object>(o: T, k: string | null): k is Extract<keyof T, string> {
  return k !== null && Object.hasOwn(o, k);
}

/** Reads settings from a query string, with defaults for anything missing or invalid. */
export function parseSettings(search: string): GallerySettings {
  const q = new URLSearchParams(search);
  const sampler: SamplerName = isKey(SAMPLERS, q.get('sampler')) ? (q.get('sampler') as SamplerName) : 'mala';
  const num = (k: string, d: number, lo: number, hi: number) => {
    const v = Number(q.get(k) ?? Number.NaN);
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d;
  };
  const b = q.get('backend');
  return {
    target: isKey(TARGETS, q.get('target')) ? (q.get('target') as TargetName) : 'mixture',
    sampler,
    step: num('step', SAMPLERS[sampler].defaultStep, 1e-4, 5),
    chains: Math.round(num('chains', 32, 2, 512)),
    seed: Math.round(num('seed', 0, 0, 2 ** 31)),
    backend: (BACKEND_CHOICES as readonly string[]).includes(b ?? '') ? (b as BackendChoice) : 'auto',
  };
}

/** Writes settings to a query string. */
export function formatSettings(s: GallerySettings): string {
  return new URLSearchParams({
    target: s.target,
    sampler: s.sampler,
    step: String(s.step),
    chains: String(s.chains),
    seed: String(s.seed),
    backend: s.backend,
  }).toString();
}

/** Per-dimension chain histories, newest `KEEP` draws. */
class History {
  readonly xs: number[][];
  constructor(
    readonly nChains: number,
    readonly dim: number,
  ) {
    this.xs = Array.from({ length: nChains * dim }, () => []);
  }
  push(traj: ArrayLike<number>, nKept: number): void {
    for (let c = 0; c < this.nChains; c++) {
      for (let t = 0; t < nKept; t++) {
        for (let d = 0; d < this.dim; d++) {
          const a = this.xs[c * this.dim + d]!;
          a.push(traj[(c * nKept + t) * this.dim + d]!);
          if (a.length > KEEP) a.shift();
        }
      }
    }
  }
  chainsOf(d: number): number[][] {
    return Array.from({ length: this.nChains }, (_, c) => this.xs[c * this.dim + d]!);
  }
  get length(): number {
    return this.xs[0]?.length ?? 0;
  }
}

export async function mountGallery(root: HTMLElement): Promise<() => void> {
  root.textContent = '';
  let settings = parseSettings(location.search);
  const target = select(
    'target',
    'Target',
    Object.fromEntries(Object.entries(TARGETS).map(([k, v]) => [k, v.label])),
    settings.target,
  );
  const samplerSel = select(
    'sampler',
    'Sampler',
    Object.fromEntries(Object.entries(SAMPLERS).map(([k, v]) => [k, v.label])),
    settings.sampler,
  );
  const step = numberInput('step', 'Step size', settings.step, { min: '0.0001', max: '5', step: 'any' });
  const chains = numberInput('chains', 'Chains', settings.chains, { min: '2', max: '512', step: '1' });
  const seed = numberInput('seed', 'Seed', settings.seed, { min: '0', step: '1' });
  const backendSel = select(
    'backend',
    'Backend',
    Object.fromEntries(BACKEND_CHOICES.map((b) => [b, b])),
    settings.backend,
  );
  const runBtn = el('button', { type: 'button', class: 'ebm-btn', 'data-action': 'toggle', text: 'Pause' });
  const resetBtn = el('button', {
    type: 'button',
    class: 'ebm-btn',
    'data-action': 'reset',
    text: 'Restart',
  });
  const controls = el('form', { class: 'ebm-controls' }, [
    target.field,
    samplerSel.field,
    step.field,
    chains.field,
    seed.field,
    backendSel.field,
    runBtn,
    resetBtn,
  ]);
  const main = el('canvas', {
    width: String(SIZE),
    height: String(SIZE),
    class: 'ebm-main',
    'aria-label': 'chains over the energy',
  });
  const top = el('canvas', {
    width: String(SIZE),
    height: String(MARGIN),
    class: 'ebm-top',
    'aria-label': 'marginal of x₀',
  });
  const right = el('canvas', {
    width: String(MARGIN),
    height: String(SIZE),
    class: 'ebm-right',
    'aria-label': 'marginal of x₁',
  });
  const stage = el('div', { class: 'ebm-stage' }, [top, el('div'), main, right]);
  const fields = ['backend', 'steps', 'acceptance', 'ess', 'rhat', 'msPerStep'] as const;
  const labels: Record<(typeof fields)[number], string> = {
    backend: 'Backend',
    steps: 'Steps',
    acceptance: 'Acceptance',
    ess: 'Bulk ESS (min over x₀, x₁)',
    rhat: 'Split-R̂ (max)',
    msPerStep: 'ms per step',
  };
  const out = {} as Record<(typeof fields)[number], HTMLElement>;
  const diag = el('dl', { class: 'ebm-diag' });
  for (const f of fields) {
    out[f] = el('dd', { 'data-field': f, text: '–' });
    diag.append(el('dt', { text: labels[f] }), out[f]);
  }
  const status = el('p', { class: 'ebm-status', role: 'status' });
  root.append(controls, el('div', { class: 'ebm-row' }, [stage, diag]), status);

  let stopped = false;
  let paused = false;
  let generation = 0;
  let heat: HTMLCanvasElement | undefined;
  let history: History | undefined;
  let stepsRun = 0;
  let accSum = 0;
  let accN = 0;

  const current = (): GallerySettings => ({
    target: target.input.value as TargetName,
    sampler: samplerSel.input.value as SamplerName,
    step: readNumber(step.input, settings.step, 1e-4, 5),
    chains: Math.round(readNumber(chains.input, settings.chains, 2, 512)),
    seed: Math.round(readNumber(seed.input, settings.seed, 0, 2 ** 31)),
    backend: backendSel.input.value as BackendChoice,
  });

  const box = () => TARGETS[settings.target].box;
  const toPx = (v: number, n: number) => ((v - box()[0]) / (box()[1] - box()[0])) * n;

  /** The first four chains' positions, for tests and curious readers (`data-positions`). */
  let positionsText = '';
  function draw(positions: ArrayLike<number>): void {
    positionsText = Array.from({ length: Math.min(8, positions.length) }, (_, i) =>
      positions[i]!.toFixed(4),
    ).join(' ');
    const g = main.getContext('2d')!;
    if (heat !== undefined) g.drawImage(heat, 0, 0, SIZE, SIZE);
    const h = history;
    if (h !== undefined) {
      g.lineWidth = 1;
      g.strokeStyle = 'rgba(255,255,255,0.55)';
      for (let c = 0; c < Math.min(TRAILS, h.nChains); c++) {
        const xs = h.xs[c * 2]!;
        const ys = h.xs[c * 2 + 1]!;
        g.beginPath();
        for (let t = Math.max(0, xs.length - 40); t < xs.length; t++) {
          const px = toPx(xs[t]!, SIZE);
          const py = SIZE - toPx(ys[t]!, SIZE);
          if (t === Math.max(0, xs.length - 40)) g.moveTo(px, py);
          else g.lineTo(px, py);
        }
        g.stroke();
      }
    }
    g.fillStyle = '#ff5a36';
    for (let c = 0; c < positions.length / 2; c++) {
      g.beginPath();
      g.arc(toPx(positions[2 * c]!, SIZE), SIZE - toPx(positions[2 * c + 1]!, SIZE), 2.5, 0, 2 * Math.PI);
      g.fill();
    }
    if (h === undefined) return;
    const bins = 48;
    for (const [d, canvas] of [
      [0, top],
      [1, right],
    ] as const) {
      const counts = new Array<number>(bins).fill(0);
      for (const a of h.chainsOf(d)) {
        for (const v of a) {
          const b = Math.floor(toPx(v, bins));
          if (b >= 0 && b < bins) counts[b]!++;
        }
      }
      const max = Math.max(1, ...counts);
      const c2 = canvas.getContext('2d')!;
      c2.clearRect(0, 0, canvas.width, canvas.height);
      c2.fillStyle = '#3c6e71';
      for (let b = 0; b < bins; b++) {
        const len = (counts[b]! / max) * (MARGIN - 4);
        if (d === 0) c2.fillRect((b * SIZE) / bins, MARGIN - len, SIZE / bins - 1, len);
        else c2.fillRect(0, SIZE - ((b + 1) * SIZE) / bins, len, SIZE / bins - 1);
      }
    }
  }

  function updateDiagnostics(msPerStep: number): void {
    out.steps.textContent = String(stepsRun);
    out.acceptance.textContent = accN === 0 ? 'n/a (no MH step)' : fmt(accSum / accN);
    out.msPerStep.textContent = fmt(msPerStep, 2);
    root.dataset.positions = positionsText;
    const h = history;
    if (h !== undefined && h.length >= 8) {
      const ess = Math.min(essBulk(h.chainsOf(0)), essBulk(h.chainsOf(1)));
      const rhat = Math.max(splitRhat(h.chainsOf(0)), splitRhat(h.chainsOf(1)));
      out.ess.textContent = fmt(ess, 0);
      out.rhat.textContent = fmt(rhat);
    }
    root.dataset.steps = String(stepsRun);
  }

  /** One run: its own energy, sampler and state, all released when the run ends (restart or unmount). */
  async function start(): Promise<void> {
    const gen = ++generation;
    const live = () => gen === generation && !stopped;
    settings = current();
    replaceUrl(settings);
    root.dataset.state = 'starting';
    status.textContent = 'Starting…';
    const picked = await pickBackend(settings.backend);
    if (!live()) return;
    out.backend.textContent = picked.note;
    root.dataset.backend = picked.name;
    const energy = TARGETS[settings.target].make();
    const sampler: Sampler = SAMPLERS[settings.sampler].make(energy, settings.step);
    const [lo, hi] = box();
    // chains start spread uniformly over the view box
    const x0 = uniformTensor(rngKey(settings.seed + 1), [settings.chains, 2], lo, hi) as tf.Tensor2D;
    let from: SamplerState | undefined;
    try {
      const grid = await computeEnergyGrid(energy, { xRange: [lo, hi], yRange: [lo, hi], resolution: 120 });
      if (!live()) return;
      const off = el('canvas', { width: String(grid.nx), height: String(grid.ny) });
      off.getContext('2d')!.putImageData(heatmapImage(grid.values, grid.nx, grid.ny), 0, 0);
      heat = off;
      history = new History(settings.chains, 2);
      stepsRun = 0;
      accSum = 0;
      accN = 0;
      out.ess.textContent = '–';
      out.rhat.textContent = '–';
      draw(await x0.data());
      root.dataset.state = 'running';
      status.textContent = '';
      while (live()) {
        if (paused) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const t0 = performance.now();
        const r = await sampler.sample({
          ...(from === undefined ? { x0 } : { resumeFrom: from }),
          nSteps: CHUNK,
          seed: settings.seed,
          keepState: true,
          trajectory: true,
          diagnostics: true,
        });
        const keep = new Set(stateTensors(r.finalState ?? {}));
        const acc = r.diagnostics?.isAccepted ?? r.diagnostics?.acceptanceRate;
        const [path, accs, positions] = await Promise.all([
          r.trajectory?.x?.data(),
          acc?.data(),
          r.samples.data(),
        ]);
        for (const t of [
          r.samples,
          ...Object.values(r.trajectory ?? {}),
          ...Object.values(r.diagnostics ?? {}),
        ]) {
          if (!keep.has(t) && !t.isDisposed) t.dispose();
        }
        if (from !== undefined) sampler.disposeState(from);
        from = r.finalState;
        if (!live()) break;
        if (path !== undefined) history.push(path, r.nKept);
        if (accs !== undefined) {
          for (const a of accs) accSum += a;
          accN += accs.length;
        }
        stepsRun += CHUNK;
        draw(positions);
        updateDiagnostics((performance.now() - t0) / CHUNK);
        await new Promise((res) => requestAnimationFrame(() => res(undefined)));
      }
    } catch (e) {
      if (live()) {
        root.dataset.state = 'error';
        status.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
        console.error(e);
      }
    } finally {
      x0.dispose();
      if (from !== undefined) sampler.disposeState(from);
      energy.dispose();
    }
  }

  function replaceUrl(s: GallerySettings): void {
    const url = `${location.pathname}?${formatSettings(s)}${location.hash}`;
    window.history.replaceState(window.history.state, '', url);
  }

  const restart = () => {
    paused = false;
    runBtn.textContent = 'Pause';
    void start();
  };
  for (const i of [target.input, samplerSel.input, backendSel.input])
    i.addEventListener('change', () => {
      if (i === samplerSel.input)
        step.input.value = String(SAMPLERS[samplerSel.input.value as SamplerName].defaultStep);
      restart();
    });
  for (const i of [step.input, chains.input, seed.input]) i.addEventListener('change', restart);
  controls.addEventListener('submit', (e) => e.preventDefault());
  resetBtn.addEventListener('click', restart);
  runBtn.addEventListener('click', () => {
    paused = !paused;
    runBtn.textContent = paused ? 'Run' : 'Pause';
    root.dataset.state = paused ? 'paused' : 'running';
  });
  void start();
  return () => {
    // the running chunk finishes, then the loop exits and releases its tensors
    stopped = true;
    generation++;
  };
}
