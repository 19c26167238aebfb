import json, itertools
DS = ['twoMoons', 'eightGaussians', 'checkerboard', 'swissRoll']
plan = []
base = dict(widths=[128, 128], steps=2000, B=128, segments=[500, 1000, 2000], sampleSteps=[300, 1000], anneals=[0.3, 0.1])
for ds in DS:
    cf = [dict(h=h, s=1.0, lam=lam, lr=lr, p=p) for h, lam, lr, p in itertools.product([3e-4, 1e-3, 3e-3, 1e-2, 3e-2], [0.1, 0.01, 0.001], [1e-3, 3e-3], [0.05, 0.2])]
    plan.append(dict(ds=ds, loss='pcd', cfgs=cf, shared=dict(base, k=10)))
for ds in DS:
    cf = [dict(sigma=sg, lr=lr, hs=hs, ss=1.0) for sg, lr, hs in itertools.product([0.02, 0.05, 0.1, 0.2], [1e-3, 3e-3], [1e-3, 3e-3, 1e-2])]
    plan.append(dict(ds=ds, loss='dsm', cfgs=cf, shared=dict(base)))
for ds in DS:
    cf = [dict(nstd=ns, lr=lr, hs=hs, ss=1.0, lam=0.0) for ns, lr, hs in itertools.product([0.05, 0.1, 0.2, 0.4], [1e-3, 3e-3], [1e-3, 3e-3, 1e-2])]
    plan.append(dict(ds=ds, loss='nce', cfgs=cf, shared=dict(base, ncomp=256)))
for ds in DS:
    cf = [dict(lr=lr, hs=hs, ss=1.0, lam=lam) for lr, hs, lam in itertools.product([1e-3, 3e-3], [1e-3, 3e-3, 1e-2], [0.0, 1e-3])]
    plan.append(dict(ds=ds, loss='ssm', cfgs=cf, shared=dict(base)))
for ds in DS:
    cf = [dict(h=h, s=1.0, lam=lam, lr=lr) for h, lam, lr in itertools.product([1e-3, 3e-3, 1e-2, 3e-2], [0.1, 0.01], [1e-3, 3e-3])]
    plan.append(dict(ds=ds, loss='cd', cfgs=cf, shared=dict(base, k=10)))
json.dump(plan, open('plan1.json', 'w'))
print(len(plan), sum(len(g['cfgs']) for g in plan))
