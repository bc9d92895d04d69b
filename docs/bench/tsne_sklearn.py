#!/usr/bin/python3
"""sklearn's TSNE on the data `medssl bench tsne` uses: 10 Gaussian blobs, n x d, drawn with
torch.Generator(seed) exactly as TsneBench.Blobs does (same libtorch 1.13 generator, same numbers).

/usr/bin/python3 docs/bench/tsne_sklearn.py --n 2000 --dim 50 --method exact
/usr/bin/python3 docs/bench/tsne_sklearn.py --n 2000 --dim 50 --method barnes_hut
"""
import argparse
import time

import torch
from sklearn.manifold import TSNE, trustworthiness

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--dim", type=int, default=50)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--method", choices=["exact", "barnes_hut"], default="exact")
a = ap.parse_args()

g = torch.Generator().manual_seed(a.seed)
centres = torch.randn(10, a.dim, generator=g) * 5.0
labels = torch.randint(0, 10, (a.n,), generator=g)
x = (centres[labels] + torch.randn(a.n, a.dim, generator=g)).numpy()

tsne = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", method=a.method, random_state=0)
wall, cpu = time.perf_counter(), time.process_time()
y = tsne.fit_transform(x)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(f"sklearn {a.method} t-SNE  n={a.n} d={a.dim}: {wall:.2f} s wall, {cpu:.2f} s CPU, {tsne.n_iter_} iterations, "
      f"KL {tsne.kl_divergence_:.4f}, trustworthiness(k=5) {trustworthiness(x, y, n_neighbors=5):.4f}")
