"""The Energy Matching authors' own 2-D run on the GPU: the reference for @ebm's `energy-matching-2d --setup paper`.

Runs `train()` and `simulate_piecewise_length()` of `experiments/toy2d/utils_2D.py` from the authors' repository
(`m1balcerak/EnergyMatching` @ 18176e4, fetched, carried in the kit, never committed) with the notebook's network and
hyper-parameters (`tutorial_2D.ipynb`: PotentialModel(dim=2, w=256) = Linear, ReLU, 3 × (Linear, SiLU), Linear;
seed 42; 20 000 flow + 2000 joint steps, batch 128, Adam 1e-4, σ 0.1, λ 2, τ* 0.8, ε_max 0.15, flow weighting on).

The device has no torchcfm (nor torchdyn or POT, its imports): `utils_2D.py` imports three things from it, which a
shim package written by this script provides, each re-implemented from torchcfm's documented behaviour:
- `torchcfm.utils.sample_8gaussians(n)`: eight centres at radius 5, N(centre, √0.1·I) (torchcfm passes √var as the
  covariance), centres drawn uniformly;
- `torchcfm.utils.sample_moons(n)`: `3·x − 1` with torchdyn's `generate_moons(n, noise=0.2)`: θ = linspace(0, π) on
  each moon (⌊n/2⌋ outer, the rest inner), plus ONE u ~ U[0, 0.2) added to both coordinates of a point;
- `ExactOptimalTransportConditionalFlowMatcher(sigma)`: the exact OT plan of the batch (uniform marginals, squared
  Euclidean cost; POT's `emd` there, an assignment here — the same plan for equal-size uniform batches), B pairs
  drawn from the plan with replacement (torchcfm's `sample_plan`), t ~ U[0, 1), x_t = t·x₁ + (1 − t)·x₀ + σ·ξ,
  u_t = x₁ − x₀.

Usage on the device (repository root):  EM_REF=.gpu-kit/em-ref OUT=$OUT python3 packages/cuda/bench/em_reference.py
  EM_REF: folder holding the authors' `utils_2D.py`; EM_FLOW / EM_JOINT: phase lengths (default 20000 / 2000).
Writes $OUT/em-reference.json: settings, seconds per phase, V on the figure's grid (the example's plot window
[−6.5, 6.5]², 120 × 120 cell centres, x fastest), 2000 samples of the paper's training sampler (`gibbs_sampler` from p₀, t_start = 0: 200
tempered steps of Δ = 0.01) and of the notebook's sampler (`simulate_piecewise_length`, 1024 samples, path length
500), and the same 2000 continued for 200 more steps at ε_max (the example's `mmd2Long`). Score and draw them with
`apps/examples/scripts/em-reference-figure.ts`.
"""

import json
import math
import os
import sys
import tempfile
import time
import types

import numpy as np
import torch
import torch.nn as nn
from scipy.optimize import linear_sum_assignment

OUT = os.environ.get("OUT", ".")
REF = os.environ.get("EM_REF", ".gpu-kit/em-ref")
FLOW = int(os.environ.get("EM_FLOW", "20000"))
JOINT = int(os.environ.get("EM_JOINT", "2000"))


def eight_gaussians(n):
    s = 1.0 / math.sqrt(2.0)
    centres = torch.tensor([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)], dtype=torch.float32) * 5
    which = torch.multinomial(torch.ones(8), n, replacement=True)
    # torchcfm: MultivariateNormal(0, sqrt(var)·I) with var = 0.1, i.e. standard deviation 0.1 ** 0.25 per coordinate
    return centres[which] + torch.randn(n, 2) * (0.1 ** 0.25)


def moons(n):
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    xy = np.stack([x, y], 1) + np.random.rand(n, 1) * 0.2
    return torch.tensor(xy, dtype=torch.float32) * 3 - 1


class ExactOT:
    def __init__(self, sigma=0.0):
        self.sigma = sigma

    def sample_location_and_conditional_flow(self, x0, x1):
        cost = (torch.cdist(x0, x1) ** 2).detach().cpu().numpy()
        rows, cols = linear_sum_assignment(cost)
        plan = np.zeros_like(cost)
        plan[rows, cols] = 1.0 / len(rows)
        p = plan.flatten() / plan.sum()
        pick = np.random.choice(plan.size, p=p, size=x0.shape[0], replace=True)
        i, j = np.divmod(pick, plan.shape[1])
        x0 = x0[torch.as_tensor(i, device=x0.device)]
        x1 = x1[torch.as_tensor(j, device=x1.device)]
        t = torch.rand(x0.shape[0]).type_as(x0)
        xt = t[:, None] * x1 + (1 - t[:, None]) * x0 + self.sigma * torch.randn_like(x0)
        return t, xt, x1 - x0


def install_shim():
    pkg = types.ModuleType("torchcfm")
    cfm = types.ModuleType("torchcfm.conditional_flow_matching")
    utils = types.ModuleType("torchcfm.utils")
    cfm.ExactOptimalTransportConditionalFlowMatcher = ExactOT
    utils.sample_8gaussians = eight_gaussians
    utils.sample_moons = moons
    pkg.conditional_flow_matching = cfm
    pkg.utils = utils
    sys.modules.update({"torchcfm": pkg, "torchcfm.conditional_flow_matching": cfm, "torchcfm.utils": utils})


class PotentialModel(nn.Module):
    """The notebook's network: Linear(2, w), ReLU, then three (Linear(w, w), SiLU), Linear(w, 1)."""

    def __init__(self, dim=2, w=256):
        super().__init__()
        layers = [nn.Linear(dim, w), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Linear(w, w), nn.SiLU()]
        layers.append(nn.Linear(w, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def main():
    install_shim()
    sys.path.insert(0, REF)
    import utils_2D as U  # noqa: E402  (the authors' file)

    seed = 42
    np.random.seed(seed)
    torch.manual_seed(seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tau_star, eps_max = 0.8, 0.15
    t0 = time.perf_counter()
    model = U.train(
        PotentialModel, device=dev, batch_size=128, lr=1e-4, epochs_phase1=FLOW, epochs_phase2=JOINT,
        flow_weight=1.0, ebm_weight=2.0, sigma=0.1, save_dir=tempfile.mkdtemp(), tau_star=tau_star,
        epsilon_max=eps_max, use_flow_weighting=True,
    )
    if dev.type == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - t0
    model.eval()

    # @ebm/viz's grid: cell centres lo + (i + ½)·(hi − lo)/m, x fastest (the example's window and resolution)
    lo, hi, m = -6.5, 6.5, 120
    g = lo + (torch.arange(m, dtype=torch.float32) + 0.5) * (hi - lo) / m
    gy, gx = torch.meshgrid(g, g, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(dev)
    with torch.no_grad():
        v = model(grid).squeeze(-1).cpu().numpy()

    torch.manual_seed(seed + 1)
    x0 = eight_gaussians(2000).to(dev)
    xs = U.gibbs_sampler(model, x0.clone(), torch.zeros(2000, device=dev), steps=200, dt=0.01, tau_star=tau_star, epsilon_max=eps_max)
    # continue at ε_max (t_start = 1: every step at ε_max): the example's `mmd2Long`
    xl = U.gibbs_sampler(model, xs.clone(), torch.ones(2000, device=dev), steps=200, dt=0.01, tau_star=tau_star, epsilon_max=eps_max)
    torch.manual_seed(seed + 2)
    traj, times = U.simulate_piecewise_length(model, eight_gaussians(1024).to(dev), dt=0.01, max_length=500, tau_star=tau_star, epsilon_max=eps_max)

    def flat(a):
        return [round(float(x), 5) for x in np.asarray(a).reshape(-1)]

    out = {
        "source": "m1balcerak/EnergyMatching@18176e4 experiments/toy2d (train, gibbs_sampler, simulate_piecewise_length) with a torchcfm shim",
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "settings": {"flowSteps": FLOW, "jointSteps": JOINT, "batch": 128, "lr": 1e-4, "sigma": 0.1, "lambda": 2.0, "tauStar": tau_star, "epsilonMax": eps_max, "width": 256, "seed": seed},
        "trainSeconds": round(train_s, 1),
        "grid": {"lo": lo, "hi": hi, "n": m, "v": flat(v)},
        "samplesGibbs": flat(xs.detach().cpu()),
        "samplesLong": flat(xl.detach().cpu()),
        "samplesNotebook": flat(traj[-1]),
        "notebookSteps": int(len(times) - 1),
        "trajectories": flat(traj[:, :10, :]),
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "em-reference.json"), "w") as f:
        json.dump(out, f)
    print(f"RESULT em-reference train {train_s:.1f} s, notebook sampler {len(times) - 1} steps", flush=True)


if __name__ == "__main__":
    main()
