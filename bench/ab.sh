#!/usr/bin/env bash
# A/B of two builds of mt on the same machine, in one sitting: every benchmark command of bench/ (engine
# throughput, kNN graph, voting, eigenpairs, metric training, selection and evaluation) runs with build A
# and build B alternately, REPS times each, and the median of each side is compared (B / A for seconds,
# so below 1 means B is faster; for img/s above 1 means B is faster).
#
#   bench/ab.sh OLD_BIN_DIR NEW_BIN_DIR          # e.g. a release build of the previous commit and of this one
#   REPS=3 THREADS=2 bench/ab.sh A B
#   ONLY='propagate|select' REPS=7 bench/ab.sh A B   # only the cases whose name matches the regex
#
# Used for refactorings that must not cost speed (the goal: every number within 5 %).
set -euo pipefail
. "$(dirname "$0")/common.sh"
a=$1 b=$2
reps=${REPS:-2}
threads=${THREADS:-2}
mnist=${MNIST_DIR:-$root/../shared/datasets/mnist}
out="$root/bench/out/ab"
mkdir -p "$out"

# Inputs, made once with build B.
"$b/mt-features" import mnist "$mnist" --split train -q -o "$out/train.h5"
"$b/mt-features" import mnist "$mnist" --split train --limit 1280 -q -o "$out/train-1280.h5"
"$b/mt-features" extract "$out/train.h5" --model pixels -q -o "$out/pixels.h5"
"$b/mt-select" split "$out/train.h5" --per-class 10 --seed 0 -q -o "$out/split.h5"

seconds() { local start end; start=$(date +%s.%N); "$@" >"$out/last.log" 2>&1 || { cat "$out/last.log" >&2; exit 1; }; end=$(date +%s.%N); awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# name | unit | command with BIN for the build directory
cases=(
  "extract pca:128|s|BIN/mt-features extract $out/train.h5 --model pca:128 --threads $threads -q -o $out/pca-X.h5"
  "knn graph pixels k=20|s|BIN/mt-knn graph $out/pixels.h5 -k 20 --threads $threads -q -o $out/graph-X.h5"
  "knn graph pca k=20|s|BIN/mt-knn graph $out/pca-B.h5 -k 20 --threads $threads -q -o $out/graph-pca-X.h5"
  "knn propagate pca 100 labels|s|BIN/mt-knn propagate $out/pca-B.h5 --split $out/split.h5 --threads $threads -q -o $out/knn-X.h5"
  "ncut eigen n=200 tol 1e-3|s|BIN/mt-ncut eigen $out/graph-pca-B.h5 -n 200 --tolerance 1e-3 --threads $threads -q -o $out/eigen-X.h5"
  "ncut propagate|s|BIN/mt-ncut propagate $out/eigen-B.h5 --split $out/split.h5 --threads $threads -q -o $out/ncut-X.h5"
  "select ratio 0.5 sinkhorn|s|BIN/mt-select pseudo $out/ncut-B.h5 --ratio 0.5 --balance sinkhorn -q -o $out/sel-X.h5"
  "eval pseudo|s|BIN/mt-eval pseudo $out/ncut-B.h5 --truth $out/train.h5 --threads $threads -q --json $out/eval-X.json"
  "metric simclr 1280 img|s|BIN/mt-train metric $out/train-1280.h5 --arch mnist-cnn --objective simclr --epochs 1 --warmup 0 --threads $threads -q -o $out/simclr-X.h5"
  "metric instance 1280 img|s|BIN/mt-train metric $out/train-1280.h5 --arch mnist-cnn --objective instance --epochs 1 --warmup 0 --threads $threads -q -o $out/instance-X.h5"
  "mnist-cnn train|img/s|BIN/mt-train benchmark --arch mnist-cnn --channels 1 --size 28 --threads $threads --train-steps 20 --infer-batches 1"
  "mnist-cnn infer|img/s|BIN/mt-train benchmark --arch mnist-cnn --channels 1 --size 28 --threads $threads --train-steps 1 --infer-batches 8"
  "wrn-28-2 train|img/s|BIN/mt-train benchmark --arch wrn-28-2 --channels 3 --size 32 --threads $threads --train-steps 6 --infer-batches 1"
  "wrn-28-2 infer|img/s|BIN/mt-train benchmark --arch wrn-28-2 --channels 3 --size 32 --threads $threads --train-steps 1 --infer-batches 3"
)

printf '%-30s %6s %10s %10s %7s\n' benchmark unit A B "B/A"
for spec in "${cases[@]}"; do
    IFS='|' read -r name unit template <<<"$spec"
    [[ -z ${ONLY:-} || $name =~ $ONLY ]] || continue
    : >"$out/a.txt"; : >"$out/b.txt"
    for _ in $(seq "$reps"); do
        for side in A B; do
            dir=$a; [ "$side" = B ] && dir=$b
            command=${template//BIN/$dir}
            command=${command//-X./-$side.}
            if [ "$unit" = s ]; then
                value=$(seconds $command)
            else
                line=$($command)
                value=$(echo "$line" | awk -v which="$name" '{ print (which ~ /train/) ? $3 : $5 }')
            fi
            echo "$value" >>"$out/$(echo $side | tr AB ab).txt"
        done
    done
    ma=$(median <"$out/a.txt"); mb=$(median <"$out/b.txt")
    printf '%-30s %6s %10s %10s %7.3f\n' "$name" "$unit" "$ma" "$mb" "$(awk -v x="$mb" -v y="$ma" 'BEGIN { print x / y }')"
done
