#!/usr/bin/python3
"""The standard step of `medssl bench step`, in PyTorch, for the C#/Python ratio in docs/benchmarks.md.

Run with Debian's Python (same libtorch 1.13 as the binding): /usr/bin/python3 lib/scripts/bench_standard_step.py --threads 2
"""
import argparse, json, os, statistics, time
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=30)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--device", default="cpu")
p.add_argument("--bf16", action="store_true", help="forward pass under torch.autocast('cpu', dtype=torch.bfloat16)")
p.add_argument("--channels-last", action="store_true", help="model and input in torch.channels_last")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
dev = torch.device(a.device)
net = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(128, 7)).to(dev)
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
x = torch.randn(64, 1, 64, 64, device=dev)
y = torch.full((64, 7), 0.3, device=dev).bernoulli()
loss_fn = nn.BCEWithLogitsLoss()
if a.channels_last:
    net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

def step():
    opt.zero_grad(set_to_none=True)
    if a.bf16:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = net(x)
    else:
        logits = net(x)
    loss_fn(logits, y).backward()
    opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()

def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1]) / 1024

for _ in range(5):
    step()
times, rss_at_100 = [], None
cpu0 = time.process_time()
for k in range(a.steps):
    t = time.perf_counter(); step(); times.append((time.perf_counter() - t) * 1000)
    if k + 1 == 100:
        rss_at_100 = rss_mb()
report = {"median_ms": round(statistics.median(times), 3), "cpu_ms_per_step": round((time.process_time() - cpu0) * 1000 / a.steps, 3), "steps": a.steps, "threads": torch.get_num_threads(),
          "device": str(dev), "torch": torch.__version__,
          "bf16_autocast": a.bf16, "channels_last": a.channels_last, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}
if rss_at_100 is not None:   # as `medssl bench step`: RSS at step 100 and at the end
    report["rss_mb_at_100"], report["rss_mb_end"] = round(rss_at_100, 1), round(rss_mb(), 1)
print(json.dumps(report))
