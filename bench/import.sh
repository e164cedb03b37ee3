#!/usr/bin/env bash
# JPEG folder import throughput (issue 19's measurement, a benchmark, not a test): COUNT synthetic photos
# (WIDTHxHEIGHT RGB, quality 90, textured so the entropy decoder has work) decoded, resized to the shorter
# side SIZE and centre-cropped, as torchvision's Resize + CenterCrop over PIL would: `mt-features import
# images --size SIZE` (whole command: listing, headers, decoding, resampling, HDF5 writing with gzip)
# against Pillow doing the same work in Python (open + convert + resize + crop, no writing), one and two
# workers (threads for mt, processes for Pillow), best of REPEATS after a warm-up run each. Pillow is also
# timed with `Image.draft` (libjpeg's DCT-domain downscaling: faster, different pixels), its fastest route.
#
#   bench/import.sh                    # 1000 images of 640x480, size 224, 3 repeats
#   COUNT=300 WIDTH=1600 HEIGHT=1200 bench/import.sh
#
# Writes bench/out/import/results.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup numpy pillow
COUNT=${COUNT:-1000} WIDTH=${WIDTH:-640} HEIGHT=${HEIGHT:-480} SIZE=${SIZE:-224} REPEATS=${REPEATS:-3}
out="$root/bench/out/import"
photos="$out/photos-${COUNT}-${WIDTH}x${HEIGHT}"
mkdir -p "$out"
if [ ! -f "$photos/.done" ]; then
    "$py" - "$photos" "$COUNT" "$WIDTH" "$HEIGHT" <<'PY'
import os, sys, numpy as np
from PIL import Image
root, count, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:h, 0:w]
for i in range(count):
    folder = os.path.join(root, "class%d" % (i % 10))
    os.makedirs(folder, exist_ok=True)
    base = np.stack([(x * (1 + i % 7) + y) % 256, (y * 3 + i) % 256, (x ^ y) % 256], -1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, "%05d.jpg" % i), quality=90)
open(os.path.join(root, ".done"), "w").close()
PY
fi

best() { sort -n | head -1; }
time_mt() {
    local threads=$1
    "$bin/mt-features" import images "$photos" --size "$SIZE" --threads "$threads" -q -o "$out/warm.h5"
    for _ in $(seq "$REPEATS"); do
        local start end
        start=$(date +%s.%N)
        "$bin/mt-features" import images "$photos" --size "$SIZE" --threads "$threads" -q -o "$out/timed.h5"
        end=$(date +%s.%N)
        "$py" -c "print($end - $start)"
    done | best
}
time_pillow() {
    "$py" - "$photos" "$SIZE" "$1" "$2" "$REPEATS" <<'PY'
import glob, sys, time
from multiprocessing import Pool
from PIL import Image
root, size, workers, draft, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "draft", int(sys.argv[5])
files = sorted(glob.glob(root + "/*/*.jpg"))
def load(path):
    im = Image.open(path)
    if draft:
        im.draft("RGB", (size, size))
    im = im.convert("RGB")
    w, h = im.size
    nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    return len(im.crop((left, top, left + size, top + size)).tobytes())
with Pool(workers) as pool:
    pool.map(load, files[:50])                       # warm-up: workers started, code paths touched
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pool.map(load, files, chunksize=16)
        times.append(time.perf_counter() - start)
print(min(times))
PY
}

results="$out/results.md"
{
    echo "COUNT=$COUNT ${WIDTH}x${HEIGHT} JPEG q90 -> $SIZE (shorter side + centre crop), best of $REPEATS"
    echo
    echo "| workers | mt-features import images | Pillow (same pixels) | Pillow + draft | mt / Pillow | mt / Pillow+draft |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$results"
for workers in 1 2; do
    mt=$(time_mt "$workers")
    pil=$(time_pillow "$workers" plain)
    draft=$(time_pillow "$workers" draft)
    rate() { "$py" -c "print('%.0f img/s' % ($COUNT / $1))"; }
    ratio() { "$py" -c "print('%.2fx' % ($2 / $1))"; }
    printf '| %s | %s | %s | %s | %s | %s |\n' "$workers" "$(rate "$mt")" "$(rate "$pil")" "$(rate "$draft")" \
        "$(ratio "$mt" "$pil")" "$(ratio "$mt" "$draft")" | tee -a "$results"
done
echo "wrote $results"
