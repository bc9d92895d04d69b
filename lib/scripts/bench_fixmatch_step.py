#!/usr/bin/python3
"""FixMatch's training step (Two-Head, as notebook 02's workshop profile runs it) in PyTorch, phase by phase, for the
comparison with `medssl bench method fixmatch` in docs/benchmarks.md. Run both in one sitting, alternating:

    OMP_WAIT_POLICY=PASSIVE dotnet medssl.dll bench method fixmatch --steps 60
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 lib/scripts/bench_fixmatch_step.py --steps 60

The network, heads, losses, optimizer and EMA are the C# method's (lib/MedSsl.Lib/Methods/FixMatchMultiLabel.cs,
Models/ResNet.cs): a ResNet with one basic block per stage (widths 8, 16, 32 on 16x16 grey images), a sigmoid head
over the C classes and a softmax head over the K label combinations; one forward pass over labelled + weak + strong
images; H(w, p) + BCE on the labelled images; FixMatch's masked cross-entropy (tau = 0.95) on the strong view against
the weak view's pseudo-label; SGD with Nesterov momentum 0.9, weight decay 5e-4, the cosine learning rate; the EMA
update of parameters and copy of buffers. Batch sizes default to the C# bench's means (it prints them: one labelled
exam and mu = 2 unlabelled exams of 6-16 frames). The weak view is the same per-image reflect-padded shift; the strong
view is a stand-in of similar cost (two rounds of a random affine warp on about half the images, brightness and
contrast), not RandAugment's 13 operations: compare the augmentation rows with that in mind.
"""
import argparse, json, math, os, statistics, time
import torch
import torch.nn.functional as F
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=30)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--threads", type=int, default=1, help="libtorch threads (the study runs on 1)")
p.add_argument("--labelled", type=int, default=11)
p.add_argument("--unlabelled", type=int, default=22)
p.add_argument("--size", type=int, default=16)
p.add_argument("--widths", default="8,16,32")
p.add_argument("--classes", type=int, default=7)
p.add_argument("--combinations", type=int, default=16)
p.add_argument("--json", action="store_true")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class Net(nn.Module):
    def __init__(self, widths, classes, combinations):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, c = [], widths[0]
        for s, w in enumerate(widths):
            blocks.append(Block(c, w, 2 if s > 0 else 1))
            c = w
        self.stages = nn.Sequential(*blocks)
        self.multi_label = nn.Linear(c, classes)
        self.combination = nn.Linear(c, combinations)

    def forward(self, x):
        f = F.adaptive_avg_pool2d(self.stages(self.stem(x)), 1).flatten(1)
        return self.multi_label(f), self.combination(f)


widths = [int(w) for w in a.widths.split(",")]
net, ema = Net(widths, a.classes, a.combinations), Net(widths, a.classes, a.combinations)
ema.load_state_dict(net.state_dict())
for q in ema.parameters():
    q.requires_grad_(False)
opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4, nesterov=True)
total_steps, decay = 800, 1 - 20 / 800
pool = torch.rand(600, 1, a.size, a.size)
labels = (torch.rand(600, a.classes) < 0.3).float()
combination_of = torch.randint(0, a.combinations, (600,))
gen = torch.Generator().manual_seed(0)


def weak(x, pad=2):
    b, _, h, w = x.shape
    dx = torch.randint(-pad, pad + 1, (b,), generator=gen)
    dy = torch.randint(-pad, pad + 1, (b,), generator=gen)
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    rows = (torch.arange(h)[None, :] + pad - dy[:, None])[:, :, None]
    cols = (torch.arange(w)[None, :] + pad - dx[:, None])[:, None, :]
    return xp[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


def strong(x):
    b = x.shape[0]
    for _ in range(2):
        apply = torch.rand(b, generator=gen) < 0.5
        angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(30)
        shear = (torch.rand(b, generator=gen) * 2 - 1) * 0.3
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = angle.cos(), -angle.sin() + shear, angle.sin(), angle.cos()
        warped = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
        x = torch.where(apply[:, None, None, None], warped, x)
        factor = 0.05 + 0.9 * torch.rand(b, 1, 1, 1, generator=gen)
        mean = x.mean((1, 2, 3), keepdim=True)
        x = ((x - mean) * factor + mean).clamp(0, 1)
    return x


phases = {}


def timed(name, t0, c0):
    phases.setdefault(name, []).append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))


def step(k):
    t, c = time.perf_counter(), time.process_time()
    li = torch.randint(0, 600, (a.labelled,), generator=gen)
    ui = torch.randint(0, 600, (a.unlabelled,), generator=gen)
    xl, y, w = weak(pool[li]), labels[li], combination_of[li]
    u = pool[ui]
    uw = weak(u)
    us = strong(u)
    timed("batch assembly", t, c)
    t, c = time.perf_counter(), time.process_time()
    for g in opt.param_groups:
        g["lr"] = 0.03 * math.cos(7 * math.pi * k / (16 * total_steps))
    opt.zero_grad(set_to_none=True)
    timed("zero_grad", t, c)
    t, c = time.perf_counter(), time.process_time()
    n, m = xl.shape[0], uw.shape[0]
    ml, comb = net(torch.cat([xl, uw, us]))
    labelled = F.cross_entropy(comb[:n], w) + F.binary_cross_entropy_with_logits(ml[:n], y)
    pw = F.softmax(comb[n:n + m].detach(), 1)
    confidence, hard = pw.max(1)
    mask = (confidence >= 0.95).float()
    unlabelled = (F.cross_entropy(comb[n + m:], hard, reduction="none") * mask).mean()
    loss = labelled + unlabelled
    labelled.item(), unlabelled.item(), mask.mean().item()
    timed("forward + loss", t, c)
    t, c = time.perf_counter(), time.process_time()
    loss.backward()
    loss.item()
    timed("backward", t, c)
    t, c = time.perf_counter(), time.process_time()
    opt.step()
    timed("optimizer", t, c)
    t, c = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for te, s in zip(ema.parameters(), net.parameters()):
            te.mul_(decay).add_(s, alpha=1 - decay)
        for te, s in zip(ema.buffers(), net.buffers()):
            te.copy_(s)
    timed("EMA update", t, c)


net.train()
for k in range(a.warmup):
    step(k)
phases.clear()
t0, c0 = time.perf_counter(), time.process_time()
for k in range(a.steps):
    step(a.warmup + k)
wall, cpu = (time.perf_counter() - t0) * 1000 / a.steps, (time.process_time() - c0) * 1000 / a.steps


def quantiles(v):
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return q[1], q[0], q[2]


total = [sum(phases[p][i][0] for p in phases) for i in range(a.steps)]
total_cpu = [sum(phases[p][i][1] for p in phases) for i in range(a.steps)]
rows = [("step (sum of phases)", total, total_cpu)] + [(p, [x[0] for x in v], [x[1] for x in v]) for p, v in phases.items()]
report = {"method": "fixmatch (PyTorch)", "torch": torch.__version__, "threads": torch.get_num_threads(),
          "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "steps": a.steps, "warmup": a.warmup,
          "wall_ms_per_step": round(wall, 3), "cpu_ms_per_step": round(cpu, 3),
          "phases": [{"phase": name, "median_ms": round(quantiles(w)[0], 3), "q1_ms": round(quantiles(w)[1], 3),
                      "q3_ms": round(quantiles(w)[2], 3), "cpu_median_ms": round(statistics.median(c), 3)} for name, w, c in rows]}
if a.json:
    print(json.dumps(report))
else:
    print(f"fixmatch step in PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY') or '(unset)'}")
    print(f"{a.steps} timed steps after {a.warmup}: {wall:.1f} ms wall, {cpu:.1f} ms CPU per step\n")
    print(f"| {'phase':<34} | {'wall median ms':>14} | {'wall IQR ms':>17} | {'CPU median ms':>13} |")
    print(f"| {'-' * 34} | {'-' * 13}: | {'-' * 16}: | {'-' * 12}: |")
    for r in report["phases"]:
        print(f"| {r['phase']:<34} | {r['median_ms']:14.2f} | {r['q1_ms']:8.2f} – {r['q3_ms']:6.2f} | {r['cpu_median_ms']:13.2f} |")
