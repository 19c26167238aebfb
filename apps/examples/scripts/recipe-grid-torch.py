# The wide grid of RECIPES.md: a batched PyTorch mirror of the @ebm recipe pipeline (run on one GPU:
#   python3 recipe-grid-torch-plan.py  # writes plan1.json
#   python3 recipe-grid-torch.py plan1.json results.jsonl [deadline-seconds]
# ). Not part of the build or the tests; results are a guide, recipes are validated in @ebm (recipe-search.ts).
"""Batched recipe search in PyTorch (many configs trained at once, one MLP per config), mirroring @ebm's
pipeline: standardised data, MLP 2->H->H->1 SiLU (He init), Langevin x - h grad E + s sqrt(2h) xi clamped to
the data box + 0.5, PCD with replay buffer + re-init from uniform noise, CD, DSM, SSM-VR, NCE; Adam with
per-config lr (cosine to lrFinal), grad-norm clip 10; score = issue 17 (multi-bandwidth MMD^2, modes, squares)
on 2000 chains from uniform noise over the held-out box."""
import json, math, sys, time, itertools
import numpy as np
import torch

dev = 'cuda' if torch.cuda.is_available() else 'cpu'
F = torch.float32


def make(ds, n, seed):
    r = np.random.default_rng(seed)
    if ds == 'twoMoons':
        no = n // 2; ni = n - no
        t1 = np.linspace(0, np.pi, no); t2 = np.linspace(0, np.pi, ni)
        x = np.concatenate([np.stack([np.cos(t1), np.sin(t1)], 1), np.stack([1 - np.cos(t2), 1 - np.sin(t2) - 0.5], 1)])
        x = x + 0.05 * r.standard_normal(x.shape)
    elif ds == 'eightGaussians':
        c = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [.7071068, .7071068], [.7071068, -.7071068], [-.7071068, .7071068], [-.7071068, -.7071068]]) * 2
        x = c[np.arange(n) % 8] + 0.02 * r.standard_normal((n, 2))
    elif ds == 'checkerboard':
        out = []
        while sum(len(o) for o in out) < n:
            u = r.uniform(-4, 4, (4 * n, 2))
            keep = (np.floor(u[:, 0]) + np.floor(u[:, 1])) % 2 != 0
            out.append(u[keep])
        x = np.concatenate(out)[:n]
    elif ds == 'swissRoll':
        u = r.uniform(0, 1, n); t = 3 * np.pi * (1 + 2 * u)
        x = np.stack([t * np.cos(t), t * np.sin(t)], 1) + 0.05 * r.standard_normal((n, 2))
        m = x.mean(0); s = x.std(0, ddof=1)
        x = (x - m) / (2 * s.mean())
    r.shuffle(x)
    return torch.tensor(x, dtype=F, device=dev)


CENTERS = torch.tensor([[1, 0], [-1, 0], [0, 1], [0, -1], [.7071068, .7071068], [.7071068, -.7071068], [-.7071068, .7071068], [-.7071068, -.7071068]], dtype=F, device=dev) * 2


def mmd_multi(X, Y, med):
    """X [C,n,2] samples, Y [m,2] data -> [C]"""
    C, n, _ = X.shape; m = Y.shape[0]
    res = torch.zeros(C, device=dev, dtype=torch.float64)
    dyy = torch.cdist(Y, Y) ** 2
    for c in range(C):
        x = X[c]
        dxx = torch.cdist(x, x) ** 2; dxy = torch.cdist(x, Y) ** 2
        for s in [0.25, 0.5, 1, 2, 4]:
            g = -1 / (2 * (s * med) ** 2)
            kxx = (torch.exp(g * dxx).sum() - n) / (n * (n - 1))
            kyy = (torch.exp(g * dyy).sum() - m) / (m * (m - 1))
            kxy = torch.exp(g * dxy).mean()
            res[c] += (kxx + kyy - 2 * kxy).double()
    return res


def score(ds, X, ref):
    """X [C,n,2] generator coords"""
    X = torch.nan_to_num(X, nan=1e6, posinf=1e6, neginf=-1e6)
    out = [dict(mmd=float(v)) for v in mmd_multi(X, ref['held'], ref['med'])]
    if ds == 'eightGaussians':
        d = torch.cdist(X, CENTERS[None].expand(X.shape[0], 8, 2))  # [C,n,8]
        dm, am = d.min(-1)
        within = dm <= 0.06
        for c in range(X.shape[0]):
            shares = torch.bincount(am[c][within[c]], minlength=8).float() / X.shape[1]
            out[c]['modes'] = int((shares >= 0.05).sum()); out[c]['within'] = float(within[c].float().mean())
            out[c]['met'] = out[c]['modes'] == 8 and out[c]['within'] >= 0.9
    elif ds == 'checkerboard':
        inside = (X.abs() <= 4).all(-1) & ((torch.floor(X[..., 0]) + torch.floor(X[..., 1])) % 2 != 0)
        for c in range(X.shape[0]):
            out[c]['sq'] = float(inside[c].float().mean()); out[c]['met'] = out[c]['sq'] >= 0.85
    else:
        for o in out: o['met'] = o['mmd'] <= 0.005
    return out


class MLP:
    def __init__(self, C, widths, seed):
        g = torch.Generator(device='cpu').manual_seed(seed)
        dims = [2] + list(widths) + [1]
        self.p = []
        for i in range(len(dims) - 1):
            std = math.sqrt((2 if i < len(dims) - 2 else 1) / dims[i])
            w = (torch.randn(C, dims[i], dims[i + 1], generator=g) * std).to(dev).requires_grad_()
            b = torch.zeros(C, 1, dims[i + 1], device=dev).requires_grad_()
            self.p += [w, b]

    def __call__(self, x):  # x [C,N,2] -> [C,N]
        h = x
        L = len(self.p) // 2
        for i in range(L):
            h = torch.baddbmm(self.p[2 * i + 1], h, self.p[2 * i])
            if i < L - 1: h = torch.nn.functional.silu(h)
        return h[..., 0]


def grad_x(E, x, create=False):
    return torch.autograd.grad(E(x).sum(), x, create_graph=create)[0]


def langevin(E, x, h, s, n, clamp, anneal=None):
    """h, s: [C] tensors; anneal: final noise multiplier (geometric over the run)"""
    hh = h[:, None, None]; ss = s[:, None, None]
    for t in range(n):
        x = x.detach().requires_grad_()
        g = grad_x(E, x)
        mult = 1.0 if anneal is None else anneal ** (t / max(1, n - 1))
        x = (x - hh * g + mult * ss * torch.sqrt(2 * hh) * torch.randn_like(x)).clamp(-clamp, clamp)
    return x.detach()


def run_group(ds, loss, cfgs, shared, ref, seed=0):
    """cfgs: list of dicts with per-config scalars: h, s, lam, lr, p (reinit), sigma (dsm), nstd (nce)"""
    torch.manual_seed(seed)
    C = len(cfgs)
    T = lambda k, d=0.0: torch.tensor([c.get(k, d) for c in cfgs], dtype=F, device=dev)
    h, s, lam, lr, p = T('h'), T('s', 1.0), T('lam'), T('lr'), T('p', 0.05)
    lrFinal = shared.get('lrFinal', 0.1)
    wd = T('wd') if any(c.get('wd', 0) > 0 for c in cfgs) else None
    steps, B, k, widths = shared['steps'], shared['B'], shared.get('k', 10), shared['widths']
    train = ref['train_z']; clamp = ref['clamp']
    net = MLP(C, widths, seed)
    params = list(net.p)
    logc = None
    if loss == 'nce':
        logc = torch.zeros(C, device=dev, requires_grad=True); params.append(logc)
    m = [torch.zeros_like(q) for q in params]; v = [torch.zeros_like(q) for q in params]
    cap = shared.get('cap', 8192)
    buf = (torch.rand(C, cap, 2, device=dev) * 2 - 1) * clamp
    ptr = 0
    segs = shared.get('segments', [steps]); results = []
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(0, train.shape[0], (C, B), device=dev)
        xb = train[idx]  # [C,B,2]
        if loss in ('pcd', 'cd'):
            if loss == 'pcd':
                bi = torch.randint(0, cap, (C, B), device=dev)
                start = torch.gather(buf, 1, bi[..., None].expand(C, B, 2))
                mask = (torch.rand(C, B, 1, device=dev) < p[:, None, None]).float()
                fresh = (torch.rand(C, B, 2, device=dev) * 2 - 1) * clamp
                start = mask * fresh + (1 - mask) * start
            else:
                start = xb
            neg = langevin(net, start, h, s, k, clamp)
            if loss == 'pcd':
                ids = (torch.arange(B, device=dev) + ptr) % cap
                buf[:, ids] = neg; ptr = (ptr + B) % cap
            ep = net(xb); en = net(neg)
            L = ep.mean(1) - en.mean(1) + lam * ((ep ** 2).mean(1) + (en ** 2).mean(1))
        elif loss == 'dsm':
            sig = T('sigma', 0.1)[:, None, None]
            xt = (xb + sig * torch.randn_like(xb)).requires_grad_()
            g = torch.autograd.grad(net(xt).sum(), xt, create_graph=True)[0]
            L = 0.5 * ((g - (xt - xb) / sig ** 2) ** 2).sum(-1).mean(1)
            if any(c.get('lam', 0) > 0 for c in cfgs): L = L + lam * (net(xt) ** 2).mean(1)
        elif loss == 'ssm':
            x = xb.clone()
            if any(c.get('sigma', 0) > 0 for c in cfgs):  # noise-perturbed SSM (data + sigma * N(0, I))
                x = x + T('sigma', 0.0)[:, None, None] * torch.randn_like(x)
            x = x.requires_grad_()
            g = torch.autograd.grad(net(x).sum(), x, create_graph=True)[0]
            vv = torch.randint(0, 2, x.shape, device=dev).float() * 2 - 1
            hv = torch.autograd.grad((g * vv).sum(), x, create_graph=True)[0]
            L = (0.5 * (g ** 2).sum(-1) - (hv * vv).sum(-1)).mean(1)
            if any(c.get('lam', 0) > 0 for c in cfgs): L = L + lam * (net(x) ** 2).mean(1)
            if any(c.get('gpen', 0) > 0 for c in cfgs): L = L + T('gpen') * (g ** 2).sum(-1).mean(1)
        elif loss == 'nce':
            nstd = T('nstd', 1.0)[:, None, None]
            M = shared.get('ncomp', 0)
            if M > 0:
                cent = train[torch.randint(0, train.shape[0], (M,), generator=None, device=dev)] if 'cent' not in ref else ref['cent']
                ref['cent'] = cent
                ci = torch.randint(0, M, (C, B), device=dev)
                y = cent[ci] + nstd * torch.randn(C, B, 2, device=dev)
                def logq(u):
                    d2 = ((u[:, :, None, :] - cent[None, None]) ** 2).sum(-1)  # C,N,M
                    return torch.logsumexp(-0.5 * d2 / nstd ** 2, -1) - math.log(M) - 2 * torch.log(nstd[..., 0]) - math.log(2 * math.pi)
            else:
                y = nstd * torch.randn(C, B, 2, device=dev)
                def logq(u):
                    return -0.5 * (u ** 2).sum(-1) / nstd[..., 0] ** 2 - 2 * torch.log(nstd[..., 0]) - math.log(2 * math.pi)
            ex = net(xb); ey = net(y)
            gx = -ex - logc[:, None] - logq(xb); gy = -ey - logc[:, None] - logq(y)
            L = -(torch.nn.functional.logsigmoid(gx).mean(1) + torch.nn.functional.logsigmoid(-gy).mean(1))
            L = L + lam * ((ex ** 2).mean(1) + (ey ** 2).mean(1))
        grads = torch.autograd.grad(L.sum(), params, allow_unused=True)
        grads = [torch.zeros_like(q) if g is None else g for q, g in zip(params, grads)]
        # per-config global norm clip at 10
        sq = sum((g.reshape(C, -1) ** 2).sum(1) for g in grads)
        sc = torch.clamp(10 / (sq.sqrt() + 1e-12), max=1.0)
        bad = ~torch.isfinite(sq)
        t = step + 1
        lr_t = lr * (lrFinal + (1 - lrFinal) * 0.5 * (1 + math.cos(math.pi * step / steps)))
        with torch.no_grad():
            for q, g, mm, vvv in zip(params, grads, m, v):
                shp = (C,) + (1,) * (g.dim() - 1)
                g = torch.nan_to_num(g) * sc.view(shp)
                mm.mul_(0.9).add_(0.1 * g); vvv.mul_(0.999).add_(0.001 * g * g)
                upd = (mm / (1 - 0.9 ** t)) / ((vvv / (1 - 0.999 ** t)).sqrt() + 1e-7)
                if wd is not None and g.dim() == 3:  # decoupled weight decay on the weights (AdamW)
                    upd = upd + wd.view(shp) * q
                q.sub_(lr_t.view(shp) * upd * (~bad).float().view(shp))
        if t in segs:
            x0 = ref['noise_z'][None].expand(C, -1, -1).clone()
            hs = h if loss in ('pcd', 'cd') else T('hs', 0.01)
            ssz = s if loss in ('pcd', 'cd') else T('ss', 1.0)
            hs0 = hs
            for hm in shared.get('hmults', [shared.get('hmult', 1.0)]):
                hs = hs0 * hm
                def emit(S, anneal, xs):
                    sc_ = score(ds, xs * ref['std'] + ref['mean'], ref)
                    for ci, (c, o) in enumerate(zip(cfgs, sc_)):
                        sh = {kk: vv for kk, vv in shared.items() if kk not in ('segments', 'sampleSteps', 'anneals', 'hmults')}
                        results.append(dict(ds=ds, loss=loss, trained=t, sampleSteps=S, anneal=anneal, hm=hm, **sh, **c, **o,
                                            L=float(L[ci]), secs=round(time.time() - t0)))
                xs = x0; done = 0
                for S in shared.get('sampleSteps', [500]):
                    xs = langevin(net, xs, hs, ssz, S - done, clamp); done = S
                    emit(S, None, xs)
                for anneal in shared.get('anneals', []):
                    S = shared.get('sampleSteps', [500])[-1]
                    emit(S, anneal, langevin(net, x0, hs, ssz, S, clamp, anneal))
    return results


def reference(ds, seed=0):
    tr = make(ds, 4000, seed)
    mean = tr.mean(0); std = tr.std(0)
    held = make(ds, 2000, 900001 + seed)
    lo = held.min(0).values; hi = held.max(0).values
    g = torch.Generator(device='cpu').manual_seed(5)
    noise = (torch.rand(2000, 2, generator=g).to(dev) * (hi - lo) + lo)
    med = torch.cdist(held, held)[torch.triu(torch.ones(2000, 2000, dtype=torch.bool, device=dev), 1)].median()
    clamp = float(torch.max(((torch.stack([lo, hi]) - mean) / std).abs())) + 0.5
    return dict(train_z=(tr - mean) / std, mean=mean, std=std, held=held, noise_z=(noise - mean) / std, med=float(med), clamp=clamp)


if __name__ == '__main__':
    plan = json.load(open(sys.argv[1]))
    outp = sys.argv[2]
    deadline = time.time() + float(sys.argv[3]) if len(sys.argv) > 3 else 1e18
    refs = {}
    with open(outp, 'a') as f:
        for grp in plan:
            if time.time() > deadline: break
            ds = grp['ds']
            if ds not in refs: refs[ds] = reference(ds)
            try:
                res = run_group(ds, grp['loss'], grp['cfgs'], grp['shared'], refs[ds])
            except Exception as e:
                res = [dict(ds=ds, loss=grp['loss'], error=repr(e))]
            for r in res: f.write(json.dumps(r) + '\n')
            f.flush()
            print(ds, grp['loss'], len(res), 'rows', flush=True)
