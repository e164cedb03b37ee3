#!/usr/bin/env bash
# Metric-pretraining throughput: `mt-train metric` (release build) against a PyTorch CPU implementation of
# the same objective and network (bench/metric_peer.py), same data, same thread count, in the same run.
#
#   bench/metric.sh                     # instance and simclr on mnist-cnn, 2 threads, 2560 MNIST images
#   THREADS=4 IMAGES=5120 bench/metric.sh
#
# Needs the real MNIST in ../shared/datasets/mnist (or MNIST_DIR). Python: the venv in MT_VENV (default
# .venv-bench in the repository root), created with numpy, h5py and torch (CPU) when missing.
# Throughput counts images (simclr: each image gives two views) over whole training steps: augmentation,
# forward, loss, backward, SGD step, memory-bank update.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
THREADS="${THREADS:-2}"
IMAGES="${IMAGES:-2560}"
MNIST_DIR="${MNIST_DIR:-$root/../shared/datasets/mnist}"
out="$root/bench/out"
mkdir -p "$out"

bench_setup numpy h5py torch
data="$out/metric-mnist-$IMAGES.h5"
[ -f "$data" ] || "$bin/mt-features" import mnist "$MNIST_DIR" --split train --limit "$IMAGES" -o "$data" -q

printf "%-10s %-10s %12s %12s %8s\n" objective arch "mt img/s" "torch img/s" ratio
for objective in instance simclr; do
    # One epoch of IMAGES/128 steps; the epoch line reports the training images/s.
    line=$("$bin/mt-train" metric "$data" --arch mnist-cnn --objective "$objective" --epochs 1 --warmup 0 \
        --threads "$THREADS" -o "$out/metric-$objective.h5" 2>&1 | grep '^epoch 1/1')
    ours=$(echo "$line" | sed -E 's/.* ([0-9.]+) img\/s.*/\1/')
    peer=$("$py" bench/metric_peer.py "$data" --objective "$objective" --threads "$THREADS" \
        --steps $((IMAGES / 128)) | sed -E 's/.*img_per_s ([0-9.]+).*/\1/')
    ratio=$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')
    printf "%-10s %-10s %12s %12s %8s\n" "$objective" mnist-cnn "$ours" "$peer" "${ratio}x"
done
