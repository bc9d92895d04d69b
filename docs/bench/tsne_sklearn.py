#!/usr/bin/python3
"""sklearn's TSNE on the data `medssl bench tsne` uses: 10 Gaussian blobs, n x d, drawn with
torch.Generator(seed) exactly as TsneBench.Blobs does (same libtorch 1.13 generator, same numbers).

/usr/bin/python3 docs/bench/tsne_sklearn.py --n 5000 --dim 50                       # barnes_hut, sklearn's default
/usr/bin/python3 docs/bench/tsne_sklearn.py --n 2000 --dim 50 --method exact

CPU time is the process's (all OpenMP threads); sklearn's Barnes-Hut gradient runs on the threads it prints.
"""
import argparse
import os
import time

import torch
from sklearn.manifold import TSNE, trustworthiness
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--dim", type=int, default=50)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--method", choices=["exact", "barnes_hut"], default="barnes_hut")
a = ap.parse_args()
# Debian's torch 1.13 sets OpenMP to one thread on import, and sklearn's Barnes-Hut gradient shares that OpenMP
# runtime: give it every core, as it has without torch.
torch.set_num_threads(len(os.sched_getaffinity(0)))

g = torch.Generator().manual_seed(a.seed)
centres = torch.randn(10, a.dim, generator=g) * 5.0
labels = torch.randint(0, 10, (a.n,), generator=g)
x = (centres[labels] + torch.randn(a.n, a.dim, generator=g)).numpy()

tsne = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", method=a.method, random_state=0)
wall, cpu = time.perf_counter(), time.process_time()
y = tsne.fit_transform(x)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(f"sklearn {a.method} t-SNE  n={a.n} d={a.dim} threads={_openmp_effective_n_threads()}: {wall:.2f} s wall, {cpu:.2f} s CPU, {tsne.n_iter_} iterations, "
      f"KL {tsne.kl_divergence_:.4f}, trustworthiness(k=5) {trustworthiness(x, y, n_neighbors=5):.4f}")
