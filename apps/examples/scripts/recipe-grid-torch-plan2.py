# The follow-up grids of RECIPES.md (issue 17, second pass), run with recipe-grid-torch.py on one GPU:
#   python3 recipe-grid-torch-plan2.py  # writes plan2.json (grid 2), plan3.json (grid 3), plan4.json (grid 4)
# grid 2: checkerboard PCD with 4000-8000 updates, wider/deeper nets, smaller sampling steps; SSM on two moons
#         with energy L2, score-norm penalty, weight decay and noise-perturbed data; DSM two moons.
# grid 3: the winners replicated (several inits per config: configs in one group get different nets).
# grid 4: the demo's two-moons PCD at a smaller budget (fewer updates, k = 5, larger learning rate).
import json, itertools
P = itertools.product
g2 = []
cb = dict(steps=4000, B=128, segments=[1000, 2000, 4000], sampleSteps=[300, 1000], anneals=[0.5, 0.3], k=10)
cf = [dict(h=h, lam=l, lr=r, p=q) for h, l, r, q in P([3e-3, 1e-2, 3e-2], [.01, 1e-3, 0], [1e-3, 3e-3], [.05, .3])]
for w, m in [([128, 128], 1), ([256, 256], 1), ([128, 128], .3)]:
    g2.append(dict(ds='checkerboard', loss='pcd', cfgs=cf, shared=dict(cb, widths=w, hmult=m)))
sm = dict(steps=2000, B=128, segments=[500, 1000, 2000], sampleSteps=[300, 1000], anneals=[], widths=[128, 128])
cf = [dict(lr=r, lam=l, sigma=g, gpen=e, wd=w, hs=h) for r, l, g, e, w, h in
      P([3e-4, 1e-3, 3e-3], [0, .01, .1], [0, .05, .1], [0, 1e-3], [0, 1e-2], [1e-3, 3e-3])]
for i in range(0, 216, 72):
    g2.append(dict(ds='twoMoons', loss='ssm', cfgs=cf[i:i + 72], shared=sm))
g2.append(dict(ds='twoMoons', loss='dsm', cfgs=[dict(sigma=g, lr=r, hs=h) for g, r, h in P([.1, .15, .2, .3], [1e-3, 3e-3], [1e-3, 3e-3, 1e-2])],
               shared=dict(sm, steps=4000, segments=[1000, 2000, 4000])))
g2.append(dict(ds='checkerboard', loss='pcd', cfgs=[dict(h=h, lam=l, lr=r) for h, l, r in P([3e-3, 1e-2, 3e-2], [.01, 1e-3], [1e-3, 3e-3])],
               shared=dict(cb, widths=[128, 128, 128], steps=8000, segments=[2000, 4000, 8000])))
g3 = []
cb = dict(steps=4000, B=128, segments=[2000, 3000, 4000], sampleSteps=[300, 1000], anneals=[0.5, 0.3], k=10)
A = dict(h=3e-3, lam=.01, lr=3e-3, p=.05)
c1 = [dict(A, r=i) for i in range(8)] + [dict(A, p=.2), dict(A, lam=.003), dict(A, h=1e-3), dict(A, h=6e-3)]
g3.append(dict(ds='checkerboard', loss='pcd', cfgs=c1, shared=dict(cb, widths=[128, 128, 128])))
g3.append(dict(ds='checkerboard', loss='pcd', cfgs=[dict(A, h=h, lam=l, r=i) for h, l, i in P([3e-3, 1e-2], [.01, .001], [0, 1])],
               shared=dict(cb, widths=[64, 64, 64])))
sm = dict(steps=2000, B=128, segments=[1000, 2000], sampleSteps=[300, 1000], anneals=[], widths=[128, 128])
S = dict(lr=3e-3, lam=.1, sigma=.1, hs=3e-3)
g3.append(dict(ds='twoMoons', loss='ssm', cfgs=[dict(S, r=i) for i in range(6)] + [dict(S, lam=.01, r=i) for i in range(6)], shared=sm))
D = dict(sigma=.15, lr=1e-3, hs=1e-3)
g3.append(dict(ds='twoMoons', loss='dsm', cfgs=[dict(D, r=i) for i in range(6)] + [dict(D, hs=3e-3, lr=3e-3, r=i) for i in range(6)],
               shared=dict(sm, steps=4000, segments=[2000, 3000, 4000])))
g4 = []
for st, k in [(300, 10), (400, 10), (400, 5), (600, 5)]:
    cf = [dict(h=h, lam=l, lr=r, p=.05, r2=i) for r, h, l, i in P([3e-3, 6e-3, 1e-2], [3e-3, 6e-3], [.1, .03], [0, 1, 2])]
    g4.append(dict(ds='twoMoons', loss='pcd', cfgs=cf, shared=dict(steps=st, B=512, k=k, widths=[64, 64], segments=[st], sampleSteps=[100, 200, 300], anneals=[])))
for name, g in [('plan2.json', g2), ('plan3.json', g3), ('plan4.json', g4)]:
    json.dump(g, open(name, 'w'))
    print(name, len(g), sum(len(x['cfgs']) for x in g))
