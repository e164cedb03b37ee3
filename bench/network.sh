#!/usr/bin/env bash
# Training (forward + backward + SGD step, batch 128) and inference (batch 512) throughput of mt's network
# engine against PyTorch CPU, same networks, same thread count, same run; prints images/s and the ratio.
#
#   bench/network.sh                     # mnist-cnn 28x28x1 and wrn-28-2 32x32x3, all cores
#   THREADS=1 STEPS=5 bench/network.sh   # fewer threads / timed steps
#   MT_VENV=/path/to/venv bench/network.sh   # reuse a venv that has torch
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-10}
BATCHES=${BATCHES:-4}
bench_setup numpy h5py torch
printf '%-10s %8s %10s %10s %7s %10s %10s %7s\n' arch threads mt-train torch ratio mt-infer torch-inf ratio
for spec in "mnist-cnn 1 28" "wrn-28-2 3 32"; do
    set -- $spec
    ours=$("$bin/mt-train" benchmark --arch "$1" --channels "$2" --size "$3" --threads "$THREADS" \
        --train-steps "$STEPS" --infer-batches "$BATCHES")
    peer=$("$py" bench/network_peer.py --arch "$1" --channels "$2" --size "$3" --threads "$THREADS" \
        --train-steps "$STEPS" --infer-batches "$BATCHES")
    read -r _ _ ot _ oi <<<"$ours"
    read -r _ _ pt _ pi <<<"$peer"
    awk -v a="$1" -v t="$THREADS" -v ot="$ot" -v pt="$pt" -v oi="$oi" -v pi="$pi" \
        'BEGIN { printf "%-10s %8d %10.1f %10.1f %7.2f %10.1f %10.1f %7.2f\n", a, t, ot, pt, ot / pt, oi, pi, oi / pi }'
done
