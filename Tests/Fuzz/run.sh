#!/usr/bin/env bash
# Fuzzes the readers of untrusted files with libFuzzer + AddressSanitizer, each target for a bounded time.
#
#   Tests/Fuzz/run.sh                      # every target (idx cifar png jpeg artifact), 600 s each, one at a time
#   SECONDS_PER_TARGET=60 Tests/Fuzz/run.sh artifact png
#   JOBS=2 Tests/Fuzz/run.sh               # two targets at once (one core each)
#   KEEP_GOING=1 Tests/Fuzz/run.sh artifact  # do not stop at the first crash (libFuzzer's fork mode)
#
# The seed corpus is made from real files: MNIST idx slices, a CIFAR batch, PNGs and one artifact of every
# kind written by the tools on a small data set. A crash is saved as .build-fuzz/crashes/TARGET/crash-*;
# copy it into Tests/Fuzz/regressions/TARGET/ once fixed: the test suite replays that folder
# (FuzzRegressionTests) with the plain build of mt-fuzz.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
targets=${*:-idx cifar png jpeg artifact}
seconds=${SECONDS_PER_TARGET:-600}
jobs=${JOBS:-1}
mnist=${MNIST_DIR:-$root/../shared/datasets/mnist}
work="$root/.build-fuzz"
mkdir -p "$work"

swift build -c release --product mt-fuzz --build-path "$work" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >/dev/null
fuzzer="$(swift build -c release --product mt-fuzz --build-path "$work" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --show-bin-path)/mt-fuzz"
make --no-print-directory build >/dev/null
bin="$root/.build/release"

# Seeds: small valid inputs of every kind.
corpus="$work/corpus"
if [ ! -d "$corpus/artifact" ]; then
    mkdir -p "$corpus"/{idx,cifar,png,jpeg,artifact}
    tmp=$(mktemp -d)
    # idx: 2-byte split length, then the first 20 images (16-byte header + 20 * 784) and 20 labels.
    python3 - "$mnist" "$corpus/idx/mnist-20" <<'PY'
import gzip, struct, sys
images = gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz").read()
labels = gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz").read()
im = struct.pack(">IIII", 2051, 20, 28, 28) + images[16:16 + 20 * 784]
lb = struct.pack(">II", 2049, 20) + labels[8:8 + 20]
open(sys.argv[2], "wb").write(struct.pack(">H", len(im)) + im + lb)
PY
    # cifar: 4 records of label + 3072 bytes.
    python3 -c "import os,sys; open(sys.argv[1],'wb').write(b''.join(bytes([i]) + os.urandom(3072) for i in range(4)))" "$corpus/cifar/batch-4"
    # artifacts and PNGs, written by the tools.
    "$bin/mt-features" import mnist "$mnist" --split train --limit 200 -q -o "$tmp/train.h5"
    "$bin/mt-features" extract "$tmp/train.h5" --model pca:8 -q -o "$tmp/features.h5"
    "$bin/mt-knn" graph "$tmp/features.h5" -k 5 -q -o "$tmp/graph.h5"
    "$bin/mt-ncut" eigen "$tmp/graph.h5" -n 12 -q -o "$tmp/eigen.h5"
    "$bin/mt-select" split "$tmp/train.h5" --per-class 2 -q -o "$tmp/split.h5"
    "$bin/mt-ncut" propagate "$tmp/eigen.h5" --split "$tmp/split.h5" -q -o "$tmp/pseudo.h5"
    "$bin/mt-select" pseudo "$tmp/pseudo.h5" --ratio 0.5 -q -o "$tmp/selection.h5"
    "$bin/mt-eval" pseudo "$tmp/pseudo.h5" --truth "$tmp/train.h5" -q -o "$tmp/metrics.h5" --plot "$tmp" >/dev/null
    "$bin/mt-train" classifier "$tmp/train.h5" --split "$tmp/split.h5" --arch mnist-cnn --iterations 1 -q -o "$tmp/model.h5"
    for kind in train features graph eigen split pseudo selection metrics model; do cp "$tmp/$kind.h5" "$corpus/artifact/$kind.h5"; done
    cp "$tmp"/*.png "$corpus/png/"
    rm -rf "$tmp"
fi

run_target() {
    local target=$1
    mkdir -p "$work/crashes/$target" "$work/live/$target"
    echo "== $target: $seconds s"
    MT_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$fuzzer" "$work/live/$target" "$corpus/$target" "Tests/Fuzz/regressions/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/$target/" ${KEEP_GOING:+-fork=1 -ignore_crashes=1} >"$work/$target.log" 2>&1 || true
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ +DONE|^#[0-9]+: cov' "$work/$target.log" | tail -3 | sed "s/^/$target: /"
    local crashes
    crashes=$(ls "$work/crashes/$target" | wc -l)
    echo "$target: $crashes crash files in $work/crashes/$target"
}

if [ "$jobs" -gt 1 ]; then
    for target in $targets; do run_target "$target" & while [ "$(jobs -r | wc -l)" -ge "$jobs" ]; do sleep 1; done; done
    wait
else
    for target in $targets; do run_target "$target"; done
fi
