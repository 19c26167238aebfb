// Section `floor` of gpu-compare.mjs (issue 11): the latency floor of one WebGPU round trip on raw Dawn (the
// `webgpu` npm package, no tfjs), next to the same reads through tfjs-webgpu's `data()`, so that a whole-chain
// sample() can be compared with what Dawn allows at all. Imported by gpu-compare.mjs (bundled with it); `ctx`
// brings its helpers: { emit, gpu, small, repsArg }.
//
// How dawn.node completes promises (webgpu@0.6.2): mapAsync / onSubmittedWorkDone register a callback; while
// any is pending, dawn.node re-schedules `wgpuInstanceProcessEvents` on every `setImmediate` turn (its string
// table holds `setImmediate` and `wgpuInstanceProcessEvents`, no timer), so there is no fixed polling interval:
// a promise settles one event-loop turn after the GPU's fence signals. The rows below measure that directly:
// `setImmediate turn` is the polling granularity, `empty submit + onSubmittedWorkDone` the queue round trip,
// `dispatch + copy + mapAsync` the round trip a whole chain needs (4 B: a finite flag, 512 KiB: 4096×32 states).
import { randomNormal, rngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { quantile, timeRows } from './timing.mjs';

const WG = 64;
/** A dispatch that writes `n` floats (x[i] = i·0.5): stands in for a kernel whose GPU time is negligible. */
const FILL_WGSL = `
@group(0) @binding(0) var<storage, read_write> x : array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g : vec3<u32>) {
  if (g.x < arrayLength(&x)) { x[g.x] = f32(g.x) * 0.5; }
}`;

/**
 * Raw Dawn, no tfjs: median ms of `reps` round trips of one small dispatch + copy of `bytes` into a preallocated
 * staging buffer + mapAsync + read (the floor under any whole chain that returns `bytes` to the host), on a
 * device of its own. Used by `chainprof` for its side-by-side summary.
 */
export async function rawRoundTripMs(bytes, reps = 50) {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter.requestDevice();
  try {
    const module = device.createShaderModule({ code: FILL_WGSL });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const storage = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const staging = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: storage } }],
    });
    const once = async () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.ceil(bytes / 4 / WG));
      pass.end();
      enc.copyBufferToBuffer(storage, 0, staging, 0, bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return v;
    };
    for (let w = 0; w < 5; w++) await once();
    const ms = [];
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      await once();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return quantile(ms, 0.5);
  } finally {
    device.destroy();
  }
}

export async function sectionFloor(ctx) {
  const { emit, gpu, small, repsArg } = ctx;
  await gpu(); // installs navigator.gpu (dawn.node) and the tfjs webgpu backend for the comparison rows
  const reps = repsArg ?? (small ? 30 : 200);
  const meta = { section: 'floor' };
  const rows = [];
  const time = timeRows({ emit, meta, reps, warm: 5, rows });

  // --- the event loop alone
  await time(
    'setImmediate turn (dawn.node polls ProcessEvents once per turn)',
    () => new Promise(setImmediate),
  );
  await time(
    'setTimeout(0) turn (what an async loop pays per yield to timers)',
    () => new Promise((r) => setTimeout(r, 0)),
  );
  await time('resolved promise (microtask)', () => Promise.resolve());

  // --- raw Dawn: a device of its own, no tfjs
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter.requestDevice();
  const q = device.queue;
  const module = device.createShaderModule({ code: FILL_WGSL });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const sizes = [
    ['4 B', 4],
    ['512 KiB', 4096 * 32 * 4],
  ];
  const bufs = new Map();
  for (const [, bytes] of sizes) {
    const storage = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const staging = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: storage } }],
    });
    bufs.set(bytes, { storage, staging, bind });
  }
  const encodeFill = (enc, b, bytes) => {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, b.bind);
    pass.dispatchWorkgroups(Math.ceil(bytes / 4 / WG));
    pass.end();
  };

  await time('raw: onSubmittedWorkDone, nothing submitted', () => q.onSubmittedWorkDone());
  await time('raw: empty submit + onSubmittedWorkDone', () => {
    q.submit([]);
    return q.onSubmittedWorkDone();
  });
  await time('raw: empty command buffer submit + onSubmittedWorkDone', () => {
    q.submit([device.createCommandEncoder().finish()]);
    return q.onSubmittedWorkDone();
  });
  await time('raw: dispatch (1 workgroup) + onSubmittedWorkDone', () => {
    const enc = device.createCommandEncoder();
    encodeFill(enc, bufs.get(4), 4);
    q.submit([enc.finish()]);
    return q.onSubmittedWorkDone();
  });
  for (const [name, bytes] of sizes) {
    const b = bufs.get(bytes);
    await time(`raw: dispatch + copy + mapAsync ${name}, preallocated staging`, async () => {
      const enc = device.createCommandEncoder();
      encodeFill(enc, b, bytes);
      enc.copyBufferToBuffer(b.storage, 0, b.staging, 0, bytes);
      q.submit([enc.finish()]);
      await b.staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(b.staging.getMappedRange().slice(0));
      b.staging.unmap();
      return v;
    });
    await time(`raw: copy + mapAsync ${name} (no dispatch), preallocated staging`, async () => {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(b.storage, 0, b.staging, 0, bytes);
      q.submit([enc.finish()]);
      await b.staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(b.staging.getMappedRange().slice(0));
      b.staging.unmap();
      return v;
    });
    await time(`raw: dispatch + copy + mapAsync ${name}, fresh staging (create + destroy)`, async () => {
      const st = device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
      });
      const enc = device.createCommandEncoder();
      encodeFill(enc, b, bytes);
      enc.copyBufferToBuffer(b.storage, 0, st, 0, bytes);
      q.submit([enc.finish()]);
      await st.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(st.getMappedRange().slice(0));
      st.destroy();
      return v;
    });
    await time(`raw: dispatch + copy, onSubmittedWorkDone, then mapAsync ${name}`, async () => {
      const enc = device.createCommandEncoder();
      encodeFill(enc, b, bytes);
      enc.copyBufferToBuffer(b.storage, 0, b.staging, 0, bytes);
      q.submit([enc.finish()]);
      await q.onSubmittedWorkDone();
      await b.staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(b.staging.getMappedRange().slice(0));
      b.staging.unmap();
      return v;
    });
  }
  // The same round trip while the JS thread keeps the event loop spinning (a busy setImmediate loop next to the
  // wait): if dawn.node's own polling were coarser than one turn, this would be faster.
  {
    const b = bufs.get(4 * 4096 * 32);
    await time(
      'raw: dispatch + copy + mapAsync 512 KiB, with a busy setImmediate loop beside it',
      async () => {
        let done = false;
        const spin = (async () => {
          while (!done) await new Promise(setImmediate);
        })();
        const enc = device.createCommandEncoder();
        encodeFill(enc, b, 4 * 4096 * 32);
        enc.copyBufferToBuffer(b.storage, 0, b.staging, 0, 4 * 4096 * 32);
        q.submit([enc.finish()]);
        await b.staging.mapAsync(GPUMapMode.READ);
        done = true;
        const v = new Float32Array(b.staging.getMappedRange().slice(0));
        b.staging.unmap();
        await spin;
        return v;
      },
    );
  }
  for (const { storage, staging } of bufs.values()) {
    storage.destroy();
    staging.destroy();
  }
  device.destroy();

  // --- tfjs-webgpu's data(): one op on a GPU-only tensor (made by a GPU program, so tfjs neither forwards the
  // op to the CPU nor holds a host copy) of 1 and 4096×32 floats, then the read.
  for (const [name, shape] of [
    ['4 B', [1, 1]],
    ['512 KiB', [4096, 32]],
  ]) {
    const base = randomNormal(rngKey(1), shape);
    await time(`tfjs: one op (add) + data() ${name}`, async () => {
      const y = tf.add(base, 1);
      await y.data();
      y.dispose();
    });
    base.dispose();
  }
  const by = Object.fromEntries(rows.map((r) => [r.path, r.medianMs]));
  const summary = {
    side: 'ebm',
    ...meta,
    path: 'summary',
    setImmediateMs: by['setImmediate turn (dawn.node polls ProcessEvents once per turn)'],
    emptySubmitMs: by['raw: empty submit + onSubmittedWorkDone'],
    roundTrip4BMs: by['raw: dispatch + copy + mapAsync 4 B, preallocated staging'],
    roundTrip512KMs: by['raw: dispatch + copy + mapAsync 512 KiB, preallocated staging'],
    tfjsData4BMs: by['tfjs: one op (add) + data() 4 B'],
    tfjsData512KMs: by['tfjs: one op (add) + data() 512 KiB'],
  };
  emit(summary);
  console.log(
    `S ebm floor | setImmediate ${summary.setImmediateMs?.toFixed(3)} ms, empty submit+done ${summary.emptySubmitMs?.toFixed(3)} ms, ` +
      `dispatch+copy+map 4 B ${summary.roundTrip4BMs?.toFixed(3)} ms / 512 KiB ${summary.roundTrip512KMs?.toFixed(3)} ms, ` +
      `tfjs data() 4 B ${summary.tfjsData4BMs?.toFixed(3)} ms / 512 KiB ${summary.tfjsData512KMs?.toFixed(3)} ms`,
  );
}
