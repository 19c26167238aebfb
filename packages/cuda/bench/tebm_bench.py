"""TorchEBM side of the GPU comparison with @ebm (see README.md beside this file).

Run on the device machine with PYTHONPATH=<kit>/tebm (TorchEBM's `torchebm/` package at a77aeee, plus a
one-line `_version.py` that setuptools_scm would write at install time).

    python3 tebm_bench.py [SECTION ...]     SECTION: info lgv kinds hmc mlp train cpu main  (default: all)

Copied from ../shared/gpu/compare/ (2026-11-29); `kinds` added for @ebm/cuda issue 11 (every analytic energy).

Every timed run is wall clock (time.perf_counter) from a torch.cuda.synchronize() before the call to the end of
`.cpu()` of the final samples (the full read-back, which waits for the GPU). Medians over `reps` runs after
warm-up. One `RESULT {json}` line per measured path, also appended to $OUT/tebm.jsonl when OUT is set.
"""

import json
import math
import os
import subprocess
import sys
import time
import traceback

import numpy as np
import torch

OUT = os.environ.get("OUT")
HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = "--small" in sys.argv
sections = [a for a in sys.argv[1:] if not a.startswith("--")] or ["info", "lgv", "kinds", "hmc", "mlp", "train", "cpu", "main"]
HAS_CUDA = torch.cuda.is_available()
DEV = torch.device("cuda" if HAS_CUDA else "cpu")

SIZES = [(64, 32, 20), (256, 32, 10), (1024, 32, 5)] if SMALL else [(4096, 32, 1000), (65536, 32, 200), (1048576, 32, 50)]
H, B_WELL, STEP, SIGMA = 2.0, 1.0, 0.01, 1.0


def emit(row):
    """Full row to $OUT/tebm.jsonl (stdout without OUT); a one-line summary to stdout."""
    line = json.dumps(row)
    if OUT:
        with open(os.path.join(OUT, "tebm.jsonl"), "a") as f:
            f.write(line + "\n")
    else:
        print("RESULT " + line, flush=True)
    size = f"{row['chains']}x{row['dim']}x{row['steps']}" if "chains" in row else ""
    msg = f"S tebm {row.get('section', '')} {size} | {row.get('path', '')}"
    if "medianMs" in row:
        st = row.get("stats")
        msg += f" med {row['medianMs']:.2f} ms [{row['minMs']:.1f}..{row['maxMs']:.1f}] n={row['n']}"
        if st is not None:
            msg += f" E|x|={st['eAbs']:.4f} Ex2={st['eSq']:.4f} nf={st['nonFinite']}"
    if "error" in row:
        msg += " ERROR " + row["error"].strip().splitlines()[-1][:300]
    if "meanAcceptance" in row:
        msg += f" acc={row['meanAcceptance']:.4f}"
    if row.get("section") == "info":
        msg += " " + json.dumps({k: v for k, v in row.items() if k in ("torch", "triton", "gpu", "nvidiaSmi", "torchebm", "cpuModel")})[:600]
    if "stdout" in row:
        msg += "\n" + row["stdout"][-1200:]
    print(msg, flush=True)


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def stats(x):
    a = x.detach().cpu().double().numpy()
    fin = np.isfinite(a)
    n_bad = int((~fin).sum())
    v = a[fin]
    e_abs, e_sq = float(np.abs(v).mean()), float((v * v).mean())
    am = np.where(fin, a, np.nan)
    cm = np.nanmean(am, axis=0)
    cv = np.nanvar(am, axis=0)
    return {
        "nonFinite": n_bad,
        "eAbs": e_abs,
        "eSq": e_sq,
        "seAbs": float(np.abs(v).std(ddof=1) / math.sqrt(v.size)),
        "seSq": float((v * v).std(ddof=1) / math.sqrt(v.size)),
        "mean": float(cm.mean()),
        "var": float(cv.mean()),
    }


def measure(label, meta, fn, dev, warm=2, reps=7, budget_s=None, min_reps=5):
    """fn(seed, warm) -> tensor of final samples. Times fn + .cpu() after a synchronize."""
    try:
        for w in range(warm):
            fn(1000 + w, True).cpu()
        sync(dev)
        ms = []
        last = None
        start = time.perf_counter()
        for k in range(reps):
            torch.manual_seed(k + 1)
            sync(dev)
            t0 = time.perf_counter()
            out = fn(k + 1, False)
            host = out.cpu()
            t1 = time.perf_counter()
            ms.append((t1 - t0) * 1000)
            last = host
            if budget_s is not None and k + 1 >= min_reps and time.perf_counter() - start > budget_s:
                break
        row = {
            "side": "tebm",
            **meta,
            "path": label,
            "device": str(dev),
            "medianMs": float(np.median(ms)),
            "minMs": min(ms),
            "maxMs": max(ms),
            "n": len(ms),
            "ms": [round(v, 2) for v in ms],
            "stats": stats(last),
        }
        if dev.type == "cuda":
            row["maxMemMiB"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        emit(row)
    except Exception:
        emit({"side": "tebm", **meta, "path": label, "error": traceback.format_exc()[-2000:]})


def section_info():
    info = {
        "side": "tebm",
        "section": "info",
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudaAvailable": HAS_CUDA,
        "cpuCount": os.cpu_count(),
        "torchThreads": torch.get_num_threads(),
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except Exception as e:  # noqa: BLE001
        info["triton"] = f"unavailable: {e}"
    if HAS_CUDA:
        p = torch.cuda.get_device_properties(0)
        info["gpu"] = {"name": p.name, "sms": p.multi_processor_count, "memGiB": round(p.total_memory / 2**30, 1)}
    try:
        info["nvidiaSmi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except Exception as e:  # noqa: BLE001
        info["nvidiaSmi"] = f"failed: {e}"
    try:
        import torchebm

        info["torchebm"] = torchebm.__version__
    except Exception:
        info["torchebm"] = "import failed: " + traceback.format_exc()[-800:]
    try:
        with open("/proc/cpuinfo") as f:
            info["cpuModel"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:  # noqa: BLE001
        pass
    emit(info)


def section_lgv():
    from torchebm.core import DoubleWellModel
    from torchebm.samplers import LangevinDynamics

    try:
        from torchebm.cuda.fused_langevin import doublewell_langevin_chain, fused_langevin_step

        triton_ok = HAS_CUDA
    except Exception:
        emit({"side": "tebm", "section": "langevin", "path": "torchebm.cuda import", "error": traceback.format_exc()[-1500:]})
        triton_ok = False

    coef = SIGMA * (2 * STEP) ** 0.5
    for (B, D, N) in SIZES:
        meta = {"section": "langevin", "energy": "DoubleWellModel(h=2,b=1)", "chains": B, "dim": D, "steps": N, "stepSize": STEP}
        model = DoubleWellModel(barrier_height=H, b=B_WELL, device=DEV)
        sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=DEV)

        def lib(seed, warm):
            return sampler.sample(n_samples=B, dim=D, n_steps=min(N, 50) if warm else N)

        measure("TorchEBM LangevinDynamics.sample (autograd grad)", meta, lib, DEV, warm=2, reps=7)

        def eager(seed, warm):
            x = torch.randn(B, D, device=DEV)
            for _ in range(min(N, 50) if warm else N):
                g = 4.0 * H * x * (x * x - B_WELL * B_WELL)
                x = x - STEP * g + coef * torch.randn_like(x)
            return x

        measure("eager torch loop, analytic grad", meta, eager, DEV, warm=2, reps=7)

        if triton_ok:
            def fstep(seed, warm):
                x = torch.randn(B, D, device=DEV)
                for i in range(min(N, 50) if warm else N):
                    g = 4.0 * H * x * (x * x - B_WELL * B_WELL)
                    fused_langevin_step(x, g, STEP, SIGMA, seed=seed * 100003 + i, out=x)
                return x

            measure("Triton fused step (torchebm.cuda) + analytic grad", meta, fstep, DEV, warm=2, reps=7)

            def chain(seed, warm):
                x = torch.randn(B, D, device=DEV)
                return doublewell_langevin_chain(x, N, STEP, SIGMA, H, B_WELL, seed=seed * 100003)

            measure("Triton whole chain (torchebm.cuda)", meta, chain, DEV, warm=2, reps=7)
        del sampler, model
        if HAS_CUDA:
            torch.cuda.empty_cache()


def section_diag():
    """Size 0 only (DoubleWell 4096x32x1000): sample(), sample(return_diagnostics=True), a kept trajectory, Triton."""
    from torchebm.core import DoubleWellModel
    from torchebm.samplers import LangevinDynamics

    B, D, N = SIZES[0]
    meta = {"section": "diag", "energy": "DoubleWellModel(h=2,b=1)", "chains": B, "dim": D, "steps": N, "stepSize": STEP}
    model = DoubleWellModel(barrier_height=H, b=B_WELL, device=DEV)
    sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=DEV)
    n = lambda warm: min(N, 50) if warm else N
    measure("TorchEBM LangevinDynamics.sample (autograd grad)", meta, lambda s, w: sampler.sample(n_samples=B, dim=D, n_steps=n(w)), DEV, warm=2, reps=7)

    def diag(seed, warm):
        x, d = sampler.sample(n_samples=B, dim=D, n_steps=n(warm), return_diagnostics=True)
        return x[-1] if x.dim() == 3 else x

    measure("TorchEBM sample(return_diagnostics=True)", meta, diag, DEV, warm=2, reps=7)

    def traj(seed, warm):
        t = sampler.sample(n_samples=B, dim=D, n_steps=n(warm), thin=10, return_trajectory=True)
        return t[:, -1] if t.dim() == 3 else t

    measure("TorchEBM sample(return_trajectory=True, thin=10)", meta, traj, DEV, warm=2, reps=7)
    try:
        from torchebm.cuda.fused_langevin import doublewell_langevin_chain

        def chain(seed, warm):
            x = torch.randn(B, D, device=DEV)
            return doublewell_langevin_chain(x, N, STEP, SIGMA, H, B_WELL, seed=seed * 100003)

        measure("Triton whole chain (torchebm.cuda)", meta, chain, DEV, warm=2, reps=7)
    except Exception:
        emit({"side": "tebm", **meta, "path": "Triton whole chain", "error": traceback.format_exc()[-1500:]})


def ar1(d, rho):
    i = torch.arange(d, dtype=torch.float64)
    return (rho ** (i.view(-1, 1) - i.view(1, -1)).abs()).to(torch.float32)


def make_kinds(D):
    """TorchEBM twins of gpu-compare.mjs's kinds(): same parameters, 32-D."""
    from torchebm.core import AckleyModel, BaseModel, DoubleWellModel, GaussianModel, HarmonicModel, RastriginModel, RosenbrockModel

    class MixtureT(BaseModel):
        """8 isotropic unit Gaussians at 3*e_k, equal weights: E = -logsumexp_k(log w - |x - mu_k|^2/2) + const."""

        def __init__(self):
            super().__init__()
            mu = torch.zeros(8, D)
            for k in range(8):
                mu[k, k] = 3.0
            self.register_buffer("mu", mu)

        def forward(self, x):
            d2 = ((x.unsqueeze(1) - self.mu.unsqueeze(0)) ** 2).sum(-1)
            return -torch.logsumexp(-0.5 * d2, dim=1) + math.log(8) + 0.5 * D * math.log(2 * math.pi)

    return {
        "doubleWell": DoubleWellModel(barrier_height=2.0, b=1.0, device=DEV),
        "harmonic": HarmonicModel(k=1.0, device=DEV),
        "rastrigin": RastriginModel(a=10.0, device=DEV),
        "rosenbrock": RosenbrockModel(a=1.0, b=1.0, device=DEV),
        "ackley": AckleyModel(device=DEV),
        "gaussian": GaussianModel(mean=torch.zeros(D), cov=ar1(D, 0.5), device=DEV),
        "gaussianMixture": MixtureT().to(DEV),
    }


def section_kinds():
    from torchebm.samplers import LangevinDynamics

    B, D, N = (256, 32, 20) if SMALL else (4096, 32, 1000)
    for kind, model in make_kinds(D).items():
        meta = {"section": "kinds", "kind": kind, "energy": type(model).__name__, "chains": B, "dim": D, "steps": N, "stepSize": STEP}
        try:
            sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=DEV)

            def lib(seed, warm):
                return sampler.sample(n_samples=B, dim=D, n_steps=min(N, 50) if warm else N)

            measure(f"{kind}: TorchEBM LangevinDynamics.sample", meta, lib, DEV, warm=1, reps=3)
            if kind in ("doubleWell", "gaussian"):
                def diag(seed, warm):
                    x, d = sampler.sample(n_samples=B, dim=D, n_steps=min(N, 50) if warm else N, return_diagnostics=True)
                    d["mean"].cpu()
                    return x

                measure(f"{kind}: TorchEBM sample(return_diagnostics=True)", meta, diag, DEV, warm=1, reps=3)

                def thin(seed, warm):
                    out = sampler.sample(n_samples=B, dim=D, n_steps=min(N, 50) if warm else N, thin=10, return_trajectory=True, return_diagnostics=True)
                    traj = out[0] if isinstance(out, tuple) else out
                    return traj[:, -1]

                measure(f"{kind}: TorchEBM sample(thin=10, return_trajectory=True, return_diagnostics=True)", meta, thin, DEV, warm=1, reps=3)
        except Exception:
            emit({"side": "tebm", **meta, "path": kind, "error": traceback.format_exc()[-1500:]})
        if HAS_CUDA:
            torch.cuda.empty_cache()


def section_hmc():
    from torchebm.core import DoubleWellModel
    from torchebm.samplers import HamiltonianMonteCarlo

    B, D, N = (256, 32, 10) if SMALL else (4096, 32, 100)
    meta = {"section": "hmc", "energy": "DoubleWellModel(h=2,b=1)", "chains": B, "dim": D, "steps": N, "stepSize": STEP, "L": 10}
    model = DoubleWellModel(barrier_height=H, b=B_WELL, device=DEV)
    sampler = HamiltonianMonteCarlo(model, step_size=STEP, n_leapfrog_steps=10, device=DEV)

    def run(seed, warm):
        return sampler.sample(n_samples=B, dim=D, n_steps=5 if warm else N)

    measure("TorchEBM HamiltonianMonteCarlo.sample", meta, run, DEV, warm=1, reps=5)
    try:
        _, diag = sampler.sample(n_samples=B, dim=D, n_steps=N, return_diagnostics=True)
        emit({"side": "tebm", **meta, "path": "HMC acceptance (diagnostics run)", "meanAcceptance": float(diag["acceptance_rate"].mean())})
    except Exception:
        emit({"side": "tebm", **meta, "path": "HMC acceptance", "error": traceback.format_exc()[-1500:]})


def make_mlp():
    from torchebm.core import BaseModel

    with open(os.path.join(HERE, "mlp_weights.json")) as f:
        spec = json.load(f)
    w = spec["weights"]

    class MLPEnergyT(BaseModel):
        """32-128-128-1 SiLU MLP with @ebm's MLPEnergy(seed 7) weights: h = x @ kernel + bias."""

        def __init__(self):
            super().__init__()
            sizes = [32, 128, 128, 1]
            self.layers = torch.nn.ModuleList(torch.nn.Linear(sizes[i], sizes[i + 1]) for i in range(3))
            with torch.no_grad():
                for i, lin in enumerate(self.layers):
                    k = torch.tensor(w[f"dense{i}/kernel"]["data"], dtype=torch.float32).view(*w[f"dense{i}/kernel"]["shape"])
                    b = torch.tensor(w[f"dense{i}/bias"]["data"], dtype=torch.float32)
                    lin.weight.copy_(k.t())
                    lin.bias.copy_(b)

        def forward(self, x):
            h = x
            for i, lin in enumerate(self.layers):
                h = lin(h)
                if i < 2:
                    h = torch.nn.functional.silu(h)
            return h.squeeze(-1)

    return MLPEnergyT()


def section_mlp():
    from torchebm.samplers import LangevinDynamics

    B, D, N = (256, 32, 10) if SMALL else (4096, 32, 100)
    meta = {"section": "mlp", "energy": "MLP 32-128-128-1 SiLU (@ebm seed-7 weights)", "chains": B, "dim": D, "steps": N, "stepSize": STEP}
    model = make_mlp().to(DEV)
    sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=DEV)

    def run(seed, warm):
        return sampler.sample(n_samples=B, dim=D, n_steps=5 if warm else N)

    measure("TorchEBM LangevinDynamics.sample, nn.Module MLP (autograd)", meta, run, DEV, warm=2, reps=7)
    # energy check: same weights on both sides -> same E at a fixed point
    with torch.no_grad():
        x = torch.linspace(-1, 1, 32, device=DEV).view(1, 32)
        emit({"side": "tebm", **meta, "path": "MLP energy at linspace(-1,1,32)", "energy": float(model(x)[0])})


def section_train():
    """CD-10 / PCD-10 training step, TorchEBM's documented recipe (examples/20-training/01-mcmc-losses/01-cd-k and
    02-persistent-cd): 2-128-128-1 SiLU MLP, LangevinDynamics(step_size=0.1, noise_scale=1.0),
    ContrastiveDivergence(k_steps=10[, persistent=True, buffer_size=8192]) with its defaults (energy_reg_weight
    0.001, new_sample_ratio 0.05), Adam 1e-3, batch 256 of TwoMoonsDataset(n_samples=3000, noise=0.05, seed=0).
    One step = batch draw, cd(batch), zero_grad, backward, opt.step(); timed from a torch.cuda.synchronize() to a
    synchronize after opt.step(); median over steps after warm-up (the @ebm twin is gpu-compare.mjs `train`)."""
    from torch import nn

    from torchebm.core import BaseModel
    from torchebm.datasets import TwoMoonsDataset
    from torchebm.losses import ContrastiveDivergence
    from torchebm.samplers import LangevinDynamics

    B = 64 if SMALL else 256
    steps = 5 if SMALL else 50

    class MLPEnergyT(BaseModel):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(2, 128), nn.SiLU(),
                nn.Linear(128, 128), nn.SiLU(),
                nn.Linear(128, 1),
            )

        def forward(self, x):
            return self.net(x).squeeze(-1)

    data = TwoMoonsDataset(n_samples=3000, noise=0.05, seed=0, device=DEV).get_data().to(DEV)
    for persistent in (False, True):
        name = "PCD-10" if persistent else "CD-10"
        meta = {"section": "train", "loss": name, "energy": "MLP 2-128-128-1 SiLU (nn.Sequential)", "batch": B,
                "langevin": {"stepSize": 0.1, "noiseScale": 1.0, "k": 10}, "optimizer": "adam 1e-3",
                "energyL2": 0.001, "data": "TwoMoonsDataset n=3000 noise=0.05 seed=0"}
        label = f"TorchEBM {name} step (ContrastiveDivergence + LangevinDynamics + Adam)"
        try:
            torch.manual_seed(0)
            energy = MLPEnergyT().to(DEV)
            sampler = LangevinDynamics(energy, step_size=0.1, noise_scale=1.0, device=DEV)
            extra = {"persistent": True, "buffer_size": 8192} if persistent else {}
            cd = ContrastiveDivergence(model=energy, sampler=sampler, k_steps=10, device=DEV, **extra)
            opt = torch.optim.Adam(energy.parameters(), lr=1e-3)

            def step():
                batch = data[torch.randint(len(data), (B,), device=DEV)]
                loss, _neg = cd(batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                return loss

            for _ in range(3):
                step()
            sync(DEV)
            ms = []
            losses = []
            for _ in range(steps):
                sync(DEV)
                t0 = time.perf_counter()
                loss = step()
                sync(DEV)
                ms.append((time.perf_counter() - t0) * 1000)
                losses.append(float(loss.detach()))
            row = {"side": "tebm", **meta, "path": label, "device": str(DEV), "medianMs": float(np.median(ms)),
                   "minMs": min(ms), "maxMs": max(ms), "n": len(ms), "ms": [round(v, 2) for v in ms],
                   "lastLoss": losses[-1]}
            if DEV.type == "cuda":
                row["maxMemMiB"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            emit(row)
        except Exception:
            emit({"side": "tebm", **meta, "path": label, "error": traceback.format_exc()[-2000:]})


def section_cpu():
    from torchebm.core import DoubleWellModel
    from torchebm.samplers import LangevinDynamics

    cpu = torch.device("cpu")
    B, D, N = (256, 32, 10) if SMALL else (4096, 32, 100)
    coef = SIGMA * (2 * STEP) ** 0.5
    for threads in (2, 16):
        torch.set_num_threads(threads)
        meta = {"section": "cpu", "energy": "DoubleWellModel(h=2,b=1)", "chains": B, "dim": D, "steps": N, "stepSize": STEP, "threads": threads}
        model = DoubleWellModel(barrier_height=H, b=B_WELL, device=cpu)
        sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=cpu)

        def lib(seed, warm):
            return sampler.sample(n_samples=B, dim=D, n_steps=5 if warm else N)

        measure(f"TorchEBM LangevinDynamics.sample, torch CPU, {threads} threads", meta, lib, cpu, warm=2, reps=7)

        def eager(seed, warm):
            x = torch.randn(B, D)
            for _ in range(5 if warm else N):
                g = 4.0 * H * x * (x * x - B_WELL * B_WELL)
                x = x - STEP * g + coef * torch.randn_like(x)
            return x

        measure(f"eager torch loop, analytic grad, torch CPU, {threads} threads", meta, eager, cpu, warm=2, reps=7)


def section_cpumlp():
    """TorchEBM Langevin on torch CPU with the MLP energy (same weights as @ebm's seed-7 MLPEnergy)."""
    from torchebm.samplers import LangevinDynamics

    cpu = torch.device("cpu")
    B, D, N = (256, 32, 10) if SMALL else (4096, 32, 100)
    model = make_mlp().to(cpu)
    for threads in (1, 2, 16):
        torch.set_num_threads(threads)
        meta = {"section": "cpumlp", "energy": "MLP 32-128-128-1 SiLU (@ebm seed-7 weights)", "chains": B, "dim": D, "steps": N, "stepSize": STEP, "threads": threads}
        sampler = LangevinDynamics(model, step_size=STEP, noise_scale=SIGMA, device=cpu)

        def run(seed, warm):
            return sampler.sample(n_samples=B, dim=D, n_steps=5 if warm else N)

        measure(f"TorchEBM LangevinDynamics.sample, MLP, torch CPU, {threads} threads", meta, run, cpu, warm=1, reps=5)


def section_main():
    """TorchEBM's own benchmark: python -m torchebm.cuda.fused_langevin (CUDA-event medians, its _bench)."""
    if not HAS_CUDA:
        return
    try:
        r = subprocess.run([sys.executable, "-m", "torchebm.cuda.fused_langevin"], capture_output=True, text=True, timeout=240)
        emit({"side": "tebm", "section": "torchebm-own-bench", "rc": r.returncode, "stdout": r.stdout[-3000:], "stderr": r.stderr[-1500:]})
    except Exception:
        emit({"side": "tebm", "section": "torchebm-own-bench", "error": traceback.format_exc()[-1500:]})


t_start = time.perf_counter()
for s in sections:
    t0 = time.perf_counter()
    try:
        {"info": section_info, "lgv": section_lgv, "kinds": section_kinds, "hmc": section_hmc, "mlp": section_mlp, "train": section_train, "cpu": section_cpu, "diag": section_diag, "cpumlp": section_cpumlp, "main": section_main}[s]()
    except Exception:
        emit({"side": "tebm", "section": s, "error": traceback.format_exc()[-2000:]})
    print(f"[{s}] {time.perf_counter() - t0:.1f} s", flush=True)
print(f"total {time.perf_counter() - t_start:.1f} s", flush=True)
