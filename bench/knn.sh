#!/bin/sh
# Benchmarks mt-knn on MNIST (60,000 training digits) against its peers, all timed in the same run:
#   graph:     mt-knn graph -k K vs faiss-cpu IndexFlatIP (exact), THREADS threads each, on raw pixels
#              (D=784) and PCA features (D=128): wall seconds and peak RSS of each whole process, the ratio
#              mt/faiss, and the recall of mt's graph against faiss's (1.0 up to ties).
#   propagate: mt-knn propagate (kNN voting) and mt-knn spread (label spreading on the graph) vs
#              scikit-learn LabelSpreading(kernel='knn'), with 10 and 100 labels: seconds and accuracy on
#              the unlabelled samples.
# Usage: bench/knn.sh. Environment: MT_VENV (Python venv, default .venv-bench in the repo), MNIST_DIR
# (default ../shared/datasets/mnist beside the repo), THREADS (2), K (20), LIMIT (all samples), SKLEARN (1;
# 0 skips scikit-learn, which takes minutes).
set -eu
. "$(dirname "$0")/common.sh"
threads=${THREADS:-2}
k=${K:-20}
mnist=${MNIST_DIR:-$root/../shared/datasets/mnist}
[ -x /usr/bin/time ] || { echo "bench/knn.sh needs /usr/bin/time (GNU time) for peak memory" >&2; exit 2; }
bench_setup numpy h5py faiss-cpu scikit-learn
peer="$root/bench/knn_peer.py"
out="$root/bench/out/knn"
mkdir -p "$out"

# Runs a command under GNU time; prints "SECONDS PEAK_MB" of the whole process.
measure() {
    /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >"$out/last.log" 2>&1 || { cat "$out/last.log" >&2; exit 1; }
    awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$out/time.txt"
}

echo "== data (mt-features import / extract)"
"$bin/mt-features" import mnist "$mnist" --split train ${LIMIT:+--limit "$LIMIT"} -q -o "$out/train.h5"
"$bin/mt-features" extract "$out/train.h5" --model pixels -q -o "$out/pixels.h5"
"$bin/mt-features" extract "$out/train.h5" --model pca:128 -q -o "$out/pca.h5"
"$bin/mt-select" split "$out/train.h5" --per-class 1 --seed 0 -q -o "$out/split-10.h5"
"$bin/mt-select" split "$out/train.h5" --per-class 10 --seed 0 -q -o "$out/split-100.h5"

echo "== kNN graph, k=$k, $threads threads (whole process: start-up, HDF5 read, search, write)"
printf "%-8s %10s %10s %9s %11s %11s  %s\n" features "mt s" "faiss s" "mt/faiss" "mt peak MB" "faiss MB" recall
for features in pixels pca; do
    read -r mt_s mt_mb <<EOT
$(measure "$bin/mt-knn" graph "$out/$features.h5" -k "$k" --threads "$threads" -q -o "$out/graph-$features.h5")
EOT
    read -r faiss_s faiss_mb <<EOT
$(measure "$py" "$peer" faiss "$out/$features.h5" "$k" "$threads" "$out/faiss-$features.npy")
EOT
    search=$(grep "faiss search seconds" "$out/last.log" | awk '{ print $4 }')
    recall=$("$py" "$peer" recall "$out/graph-$features.h5" "$out/faiss-$features.npy" "$out/$features.h5")
    ratio=$(awk -v a="$mt_s" -v b="$faiss_s" 'BEGIN { printf "%.2f", a / b }')
    printf "%-8s %10s %10s %9s %11s %11s  %s\n" "$features" "$mt_s" "$faiss_s" "$ratio" "$mt_mb" "$faiss_mb" "$recall"
    echo "         (faiss search alone, without Python start-up and HDF5 read: $search s)"
done

echo "== propagation, $threads threads: seconds (whole process) and accuracy on the unlabelled samples"
printf "%-8s %-7s %-34s %9s %9s\n" features labels method seconds accuracy
for features in pixels pca; do
    for labels in 10 100; do
        split="$out/split-$labels.h5"
        read -r s _ <<EOT
$(measure "$bin/mt-knn" propagate "$out/$features.h5" --split "$split" --threads "$threads" -q -o "$out/knn.h5")
EOT
        acc=$("$py" "$peer" accuracy "$out/knn.h5" "$out/$features.h5" "$split" | awk '{ print $2 }')
        printf "%-8s %-7s %-34s %9s %9s\n" "$features" "$labels" "mt-knn propagate (voting)" "$s" "$acc"
        read -r s _ <<EOT
$(measure "$bin/mt-knn" spread "$out/graph-$features.h5" --split "$split" --threads "$threads" -q -o "$out/spread.h5")
EOT
        acc=$("$py" "$peer" accuracy "$out/spread.h5" "$out/$features.h5" "$split" | awk '{ print $2 }')
        printf "%-8s %-7s %-34s %9s %9s\n" "$features" "$labels" "mt-knn spread (graph given)" "$s" "$acc"
        [ "${SKLEARN:-1}" = 1 ] || continue   # SKLEARN=0: skip the slow scikit-learn peer
        result=$("$py" "$peer" sklearn "$out/$features.h5" "$split" "$k" 0.99 1000 "$threads")
        s=$(echo "$result" | awk '{ print $3 }')
        acc=$(echo "$result" | awk '{ print $5 }')
        printf "%-8s %-7s %-34s %9s %9s\n" "$features" "$labels" "sklearn LabelSpreading knn (fit)" "$s" "$acc"
    done
done
echo "(sklearn: n_neighbors=$k, alpha=0.99, max_iter=1000, tol=1e-3, its own kNN graph inside fit; mt spread:"
echo " alpha 0.99, gamma 3, tolerance 1e-4 on the mt-knn graph, whose time is in the table above)"
