#!/usr/bin/python3
"""Reference values for MedSsl.Tests.Metrics, made once with Debian's python3-sklearn / scipy.

Run from this folder:  /usr/bin/python3 make_reference.py   (writes reference.json beside it)
Every input array and every expected value is stored, so the C# tests need nothing but the JSON.
"""
import json
import numpy as np
import scipy
import scipy.stats
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
import sklearn
from sklearn import metrics
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE, trustworthiness

rng = np.random.default_rng(20240401)
out = {"generator": f"sklearn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}"}


def lst(a):
    return np.asarray(a).tolist()


# ---- multi-label classification (Dadoun et al. 2022: 7 organ classes, Tables 1-2) -----------------------
def multilabel_split(n, k, prevalence):
    y = (rng.random((n, k)) < prevalence).astype(int)
    # scores: noisy, correlated with the label, so thresholds matter and F1 is neither 0 nor 1
    s = 1 / (1 + np.exp(-(2.0 * y - 1.0 + rng.normal(0, 1.2, (n, k)))))
    return y, np.round(s, 4)   # rounding creates ties, which the threshold search must handle


prev = np.array([555, 115, 315, 316, 72, 135, 58]) / 1242
y_val, s_val = multilabel_split(300, 7, prev)
y_test, s_test = multilabel_split(400, 7, prev)
y_pred_half = (s_test >= 0.5).astype(int)
p, r, f, sup = metrics.precision_recall_fscore_support(y_test, y_pred_half, average=None, zero_division=0)
pw, rw, fw, _ = metrics.precision_recall_fscore_support(y_test, y_pred_half, average="weighted", zero_division=0)


def best_threshold(y, s):
    """Threshold maximising F1 over the distinct scores (positive when score >= t); ties -> smallest t."""
    best_t, best_f = None, -1.0
    for t in np.unique(s):
        f1 = metrics.f1_score(y, (s >= t).astype(int), zero_division=0)
        if f1 > best_f:
            best_t, best_f = t, f1
    return float(best_t)


thr = np.array([best_threshold(y_val[:, j], s_val[:, j]) for j in range(7)])
y_pred_thr = (s_test >= thr).astype(int)
pt, rt, ft, _ = metrics.precision_recall_fscore_support(y_test, y_pred_thr, average=None, zero_division=0)
ptw, rtw, ftw, _ = metrics.precision_recall_fscore_support(y_test, y_pred_thr, average="weighted", zero_division=0)
out["multilabel"] = {
    "y_val": lst(y_val), "s_val": lst(s_val), "y_test": lst(y_test), "s_test": lst(s_test),
    "at_half": {"precision": lst(p), "recall": lst(r), "f1": lst(f), "support": lst(sup),
                "weighted_precision": pw, "weighted_recall": rw, "weighted_f1": fw},
    "thresholds": lst(thr),
    "at_thresholds": {"precision": lst(pt), "recall": lst(rt), "f1": lst(ft),
                      "weighted_precision": ptw, "weighted_recall": rtw, "weighted_f1": ftw},
}

# ---- binary ranking metrics and failure prediction (Petit et al., Table 6) -------------------------
yb = (rng.random(250) < 0.3).astype(int)
sb = np.round(yb * 0.8 + rng.normal(0, 0.6, 250), 3)
probs = rng.dirichlet(np.ones(4) * 0.7, 300)
labels = np.where(rng.random(300) < 0.7, probs.argmax(1), rng.integers(0, 4, 300))
pred = probs.argmax(1)
conf = probs.max(1)
correct = (pred == labels).astype(int)
out["binary"] = {
    "y": lst(yb), "score": lst(sb),
    "roc_auc": metrics.roc_auc_score(yb, sb), "average_precision": metrics.average_precision_score(yb, sb),
}
out["failure"] = {
    "probs": lst(probs), "labels": lst(labels),
    "accuracy": metrics.accuracy_score(labels, pred),
    # ConfidNet / Petit et al. convention: AUC and AP_success rank correct predictions by confidence,
    # AP_error takes the errors as the positive class with the confidence negated.
    "auc": metrics.roc_auc_score(correct, conf),
    "ap_success": metrics.average_precision_score(correct, conf),
    "ap_error": metrics.average_precision_score(1 - correct, -conf),
}

# ---- segmentation (2-D masks) -------------------------------------------------------------------
def blob(h, w, cy, cx, ry, rx):
    yy, xx = np.mgrid[:h, :w]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def avg_hausdorff(a, b):
    """Mean of the two directed average distances over all foreground pixels (Aydin et al. 2021, eq. 1)."""
    pa, pb = np.argwhere(a).astype(float), np.argwhere(b).astype(float)
    d = cdist(pa, pb)
    return 0.5 * (d.min(1).mean() + d.min(0).mean())


seg = []
for _ in range(4):
    h, w = 24, 32
    a = blob(h, w, rng.uniform(6, 18), rng.uniform(8, 24), rng.uniform(3, 7), rng.uniform(3, 9))
    b = blob(h, w, rng.uniform(6, 18), rng.uniform(8, 24), rng.uniform(3, 7), rng.uniform(3, 9))
    b ^= rng.random((h, w)) < 0.03       # a little salt noise so both surfaces are irregular
    a[0, 0] = True                        # a far outlier pixel, which average Hausdorff is meant to damp
    inter, union = (a & b).sum(), (a | b).sum()
    seg.append({
        "a": lst(a.astype(int)), "b": lst(b.astype(int)),
        "dice": 2 * inter / (a.sum() + b.sum()), "iou": inter / union,
        "dice_sklearn": metrics.f1_score(a.ravel(), b.ravel()), "iou_sklearn": metrics.jaccard_score(a.ravel(), b.ravel()),
        "avg_hausdorff": avg_hausdorff(a, b),
    })
out["segmentation"] = seg

# ---- clustering ---------------------------------------------------------------------------------
truth = rng.integers(0, 5, 400)
clusters = np.where(rng.random(400) < 0.65, (truth * 3 + 1) % 6, rng.integers(0, 6, 400))   # 6 clusters, 5 classes
cm = metrics.confusion_matrix(truth, clusters, labels=range(6))  # rows: classes, cols: clusters
row, col = linear_sum_assignment(-cm)
cont = metrics.cluster.contingency_matrix(truth, clusters)
out["clustering"] = {
    "truth": lst(truth), "clusters": lst(clusters),
    "accuracy": cm[row, col].sum() / len(truth),
    "nmi": metrics.normalized_mutual_info_score(truth, clusters),
    "ari": metrics.adjusted_rand_score(truth, clusters),
    "purity": cont.max(axis=0).sum() / cont.sum(),
}

# ---- mean +- 95 % CI over seeds (Student t) ------------------------------------------------------
ci = []
for n in (2, 3, 5, 10):
    x = rng.normal(0.8, 0.03, n)
    half = scipy.stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    ci.append({"values": lst(x), "mean": x.mean(), "half_width": half})
out["confidence_interval"] = ci

# ---- trustworthiness and the t-SNE reference (400 digits, 64-d) ----------------------------------
digits = load_digits()
idx = rng.choice(len(digits.data), 400, replace=False)
X = digits.data[idx].astype(float)
tsne_runs = []
for seed in (0, 1, 2):
    emb = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", method="exact",
               random_state=seed).fit_transform(X)
    tsne_runs.append({"seed": seed, "embedding": lst(emb), "trustworthiness": trustworthiness(X, emb, n_neighbors=5)})
random_emb = rng.normal(size=(400, 2))
# continuous data (no tied distances, so the neighbour ranks are unambiguous) for the exact check
Xc = rng.normal(size=(150, 10))
Ec = Xc[:, :2] + rng.normal(0, 0.5, (150, 2))
trust_cases = [{"k": k, "value": trustworthiness(Xc, Ec, n_neighbors=k)} for k in (1, 5, 12, 30)]
out["tsne"] = {
    "X": lst(X), "labels": lst(digits.target[idx]),
    "sklearn_exact": tsne_runs,
    "random_embedding": lst(random_emb),
    "random_trustworthiness_k5": trustworthiness(X, random_emb, n_neighbors=5),
    "random_trustworthiness_k12": trustworthiness(X, random_emb, n_neighbors=12),
    "continuous_X": lst(Xc), "continuous_embedding": lst(Ec), "continuous_trustworthiness": trust_cases,
}

with open("reference.json.tmp", "w") as fh:
    json.dump(out, fh)
import os
os.replace("reference.json.tmp", "reference.json")
print("wrote reference.json")
