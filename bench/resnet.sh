#!/usr/bin/env bash
# ResNet-50 inference at 224 x 224 (issue 19's backbone; a benchmark, not a test): the penultimate features
# of COUNT photos with `mt-features extract --model resnet50.h5` (the whole command: reading, normalising,
# inference, writing) against PyTorch's eval-mode forward of the same network (pipelines/tools/torch_models.py,
# torchvision's layers) on the same threads, NCHW and channels_last, batch BATCH, best of REPEATS after a
# warm-up. Weights are random (nothing can be downloaded): speed does not depend on them. Reports images/s,
# GFLOP/s (4.09 G multiply-adds per image) and the ratio to PyTorch's faster memory format.
#
#   bench/resnet.sh                        # 64 images, 2 threads, batch 20
#   COUNT=32 THREADS=1 bench/resnet.sh
#
# Writes bench/out/resnet/results.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup numpy h5py pillow torch
COUNT=${COUNT:-64} THREADS=${THREADS:-2} BATCH=${BATCH:-20} REPEATS=${REPEATS:-3} ARCH=${ARCH:-resnet50}
out="$root/bench/out/resnet"
mkdir -p "$out/photos"
if [ ! -f "$out/$ARCH.h5" ]; then
    "$py" - "$out" "$COUNT" "$ARCH" <<'PY'
import sys, os, numpy as np, torch
from PIL import Image
sys.path.insert(0, "pipelines/tools")
import torch_models
out, count, arch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
torch.save(getattr(torch_models, arch)().state_dict(), f"{out}/{arch}.pth")
rng = np.random.default_rng(0)
for i in range(count):
    Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(f"{out}/photos/{i:04d}.png")
PY
    "$py" pipelines/tools/torch2h5.py to-h5 "$out/$ARCH.pth" --arch "$ARCH" -o "$out/$ARCH.h5"
fi
[ -f "$out/photos.h5" ] || "$bin/mt-features" import images "$out/photos" --labels none -q -o "$out/photos.h5"

best() { sort -n | head -1; }
"$bin/mt-features" extract "$out/photos.h5" --model "$out/$ARCH.h5" --layer penultimate --threads "$THREADS" -q -o "$out/warm.h5"
mt=$(for _ in $(seq "$REPEATS"); do
    start=$(date +%s%N)
    "$bin/mt-features" extract "$out/photos.h5" --model "$out/$ARCH.h5" --layer penultimate --threads "$THREADS" -q -o "$out/timed.h5"
    echo "$(( $(date +%s%N) - start ))"
done | best)
read -r nchw channels_last < <("$py" - "$out" "$COUNT" "$THREADS" "$BATCH" "$REPEATS" "$ARCH" <<'PY'
import sys, time, torch
sys.path.insert(0, "pipelines/tools")
import torch_models
out, count, threads, batch, repeats, arch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
model = getattr(torch_models, arch)()
model.load_state_dict(torch.load(f"{out}/{arch}.pth"))
model.eval()
x = torch.rand(count, 3, 224, 224)
def run(memory_format):
    m = model.to(memory_format=memory_format)
    inputs = [x[i:i + batch].contiguous(memory_format=memory_format) for i in range(0, count, batch)]
    with torch.no_grad():
        m.embed(inputs[0])                                  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for chunk in inputs:
                m.embed(chunk)
            times.append(time.perf_counter() - start)
    return min(times)
print(run(torch.contiguous_format), run(torch.channels_last))
PY
)
"$py" - "$mt" "$nchw" "$channels_last" "$COUNT" "$THREADS" "$BATCH" "$ARCH" <<'PY' | tee "$out/results.md"
import sys
mt_ns, nchw, cl, count, threads, batch, arch = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
mt = mt_ns / 1e9
flop = {"resnet50": 2 * 4.09e9, "resnet18": 2 * 1.82e9}[arch]
best = min(nchw, cl)
print(f"{arch} inference, {count} images 224x224, {threads} threads (PyTorch batch {batch}; mt's own batch)")
print()
print("| | images/s | GFLOP/s |")
print("| --- | ---: | ---: |")
for name, t in [("mt-features extract (whole command)", mt), ("PyTorch NCHW (forward only)", nchw), ("PyTorch channels_last (forward only)", cl)]:
    print(f"| {name} | {count / t:.1f} | {count * flop / t / 1e9:.0f} |")
print()
print(f"mt / PyTorch's faster format: {best / mt:.2f}x")
PY
