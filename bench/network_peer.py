"""PyTorch CPU peer of `mt-train benchmark`: the same networks (Tests/Fixtures/torch_models.py), the same
synthetic batches, the same steps (forward + backward + SGD step at batch 128; inference at batch 512).

    python bench/network_peer.py --arch mnist-cnn --channels 1 --size 28 --threads 2
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines", "tools"))
from torch_models import build  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", required=True)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--infer-batches", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.arch, 10, args.channels)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(128, args.channels, args.size, args.size)
    y = torch.arange(128) % 10

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    model.train()
    step()
    start = time.perf_counter()
    for _ in range(args.train_steps):
        step()
    train = args.train_steps * 128 / (time.perf_counter() - start)
    model.eval()
    xi = torch.randn(512, args.channels, args.size, args.size)
    with torch.no_grad():
        model(xi)
        start = time.perf_counter()
        for _ in range(args.infer_batches):
            model(xi)
        infer = args.infer_batches * 512 / (time.perf_counter() - start)
    print(f"{args.arch} train_img_per_s {train:.1f} infer_img_per_s {infer:.1f}")


if __name__ == "__main__":
    main()
