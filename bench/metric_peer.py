"""PyTorch CPU peer of `mt-train metric`: the same network (torch_models.py), the same data set file, the
same objective and step (augment a batch, forward, loss, backward, SGD step with Nesterov momentum, memory
bank update), timed over one epoch after one warm-up step.

    python bench/metric_peer.py DATASET.h5 --objective instance --threads 2 --steps 20

Objectives as mt: instance = memory bank of N x 128, NCE with K per-sample noise rows, T = 0.07, Z fixed on
the first batch, momentum-0.5 bank update (Wu et al. 2018; the reference's NCEAverage/NCECriterion);
simclr = two views, in-batch NT-Xent, T = 0.2. Augmentation for digits is done batched with
affine_grid/grid_sample (random resized crop with area in [0.5, 1], aspect in [3/4, 4/3], rotation up to
15 degrees, brightness/contrast 0.3), the same transform family as mt's MetricAugmenter. Prints images/s.
"""
import argparse
import math
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pipelines", "tools"))
from torch_models import build  # noqa: E402


def augment(x, generator):
    """x [B, 1, H, W] in [0, 1] -> augmented views (same transform family as mt's `digits` kind)."""
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=generator)
    area, ratio = u(0.5, 1.0), torch.exp(u(math.log(3 / 4), math.log(4 / 3)))
    sx, sy = torch.sqrt(area * ratio).clamp(max=1), torch.sqrt(area / ratio).clamp(max=1)
    tx, ty = (1 - sx) * u(-1, 1), (1 - sy) * u(-1, 1)
    angle = u(-15, 15) * math.pi / 180
    theta = torch.stack([torch.stack([torch.cos(angle) * sx, -torch.sin(angle) * sy, tx], 1),
                         torch.stack([torch.sin(angle) * sx, torch.cos(angle) * sy, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
    out = (out * u(0.7, 1.3).view(b, 1, 1, 1)).clamp(0, 1)
    level = out.mean((1, 2, 3), keepdim=True)
    return ((out - level) * u(0.7, 1.3).view(b, 1, 1, 1) + level).clamp(0, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--objective", choices=["instance", "simclr"], default="instance")
    parser.add_argument("--arch", default="mnist-cnn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--negatives", type=int, default=4096)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)

    with h5py.File(args.dataset, "r") as f:
        images = torch.from_numpy(np.asarray(f["images"], dtype=np.float32) / 255).permute(0, 3, 1, 2).contiguous()
    n, channels = images.shape[0], images.shape[1]
    mean, std = images.mean().item(), images.std().item()
    model = build(args.arch, 128, channels, norm=True)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4, nesterov=True)
    k, t = min(args.negatives, n), (0.07 if args.objective == "instance" else 0.2)
    memory = F.normalize(torch.randn(n, 128), dim=1)
    z = None

    def step(indices):
        nonlocal z
        x = images[indices]
        optimizer.zero_grad()
        if args.objective == "instance":
            out = model((augment(x, generator) - mean) / std)
            idx = torch.randint(n, (len(indices), k + 1), generator=generator)
            idx[:, 0] = indices
            scores = torch.exp(torch.bmm(memory[idx], out.unsqueeze(2)).squeeze(2) / t)
            if z is None:
                z = scores.mean().item() * n
            p = scores / z
            kpn = k / n
            loss = -(torch.log(p[:, 0] / (p[:, 0] + kpn)).sum() + torch.log(kpn / (p[:, 1:] + kpn)).sum()) / len(indices)
            loss.backward()
            with torch.no_grad():
                memory[indices] = F.normalize(0.5 * memory[indices] + 0.5 * out.detach(), dim=1)
        else:
            views = torch.cat([augment(x, generator), augment(x, generator)])
            out = model((views - mean) / std)
            b2 = out.shape[0]
            sim = out @ out.t() / t
            sim.fill_diagonal_(float("-inf"))
            targets = (torch.arange(b2) + b2 // 2) % b2
            F.cross_entropy(sim, targets).backward()
        optimizer.step()

    order = torch.randperm(n, generator=generator)
    b = args.batch_size
    step(order[:b])
    steps = min(args.steps, n // b)
    start = time.perf_counter()
    for s in range(steps):
        step(order[s * b:(s + 1) * b])
    rate = steps * b / (time.perf_counter() - start)
    print(f"{args.objective} {args.arch} img_per_s {rate:.1f}")


if __name__ == "__main__":
    main()
