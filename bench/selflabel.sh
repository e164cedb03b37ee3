#!/usr/bin/env bash
# Self-labelling on MNIST without labels (issue 16's measurement, a benchmark, not a test): mnist-cnn
# trained by `mt-train metric --objective selflabel` (K = 10 clusters), its clustering of the 60,000
# training images (head 0's argmax: Hungarian accuracy, NMI, ARI via `mt-eval cluster`) and, as a metric,
# the linear-probe and 200-NN test accuracy of its penultimate features (`mt-eval metric --linear`),
# beside SimCLR and instance discrimination (their learned embeddings, same protocol); wall time per run.
#
#   bench/selflabel.sh                       # selflabel 4 epochs, 2 heads, 8 label updates; SimCLR 2 and instance 2 epochs
#   SL_EPOCHS=8 SL_UPDATES=16 bench/selflabel.sh
#   INSTANCE_EPOCHS=0 PIPELINE_LABELS= bench/selflabel.sh    # self-label and SimCLR only
#
# Reuses bench/ssl.sh's data and SimCLR metric when present (bench/out/ssl); writes bench/out/selflabel/results.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup h5py numpy
THREADS=${THREADS:-2}
SL_EPOCHS=${SL_EPOCHS:-4}
SL_HEADS=${SL_HEADS:-2}
SL_UPDATES=${SL_UPDATES:-8}
INSTANCE_EPOCHS=${INSTANCE_EPOCHS:-2}
MNIST_DIR=${MNIST_DIR:-$root/../shared/datasets/mnist}
ssl="$root/bench/out/ssl" out="$root/bench/out/selflabel"
mkdir -p "$out"
flags=(--threads "$THREADS" -q)
for split in train test; do
    [ -f "$ssl/$split.h5" ] || { mkdir -p "$ssl"; "$bin/mt-features" import mnist "$MNIST_DIR" --split "$split" "${flags[@]}" -o "$ssl/$split.h5"; }
done
results="$out/results.md"
[ -f "$results" ] || printf '| metric | training (s) | clustering accuracy | NMI | ARI | linear probe (test) | 200-NN (test) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' >"$results"

scalar() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['runs'][0]['scalars'][sys.argv[2]])" "$1" "$2"; }

# measure NAME MODEL SECONDS CLUSTERS(yes|no): embeds train and test, probes, and appends the row.
measure() {
    local name=$1 model=$2 seconds=$3 clusters=$4
    [ -f "$out/$name-train.h5" ] || "$bin/mt-features" extract "$ssl/train.h5" --model "$model" "${flags[@]}" -o "$out/$name-train.h5"
    [ -f "$out/$name-test.h5" ] || "$bin/mt-features" extract "$ssl/test.h5" --model "$model" "${flags[@]}" -o "$out/$name-test.h5"
    "$bin/mt-eval" metric "$out/$name-train.h5" "$out/$name-test.h5" --linear "${flags[@]}" --json "$out/$name-metric.json" >/dev/null
    local accuracy="—" nmi="—" ari="—"
    if [ "$clusters" = yes ]; then
        "$bin/mt-train" predict "$model" "$ssl/train.h5" "${flags[@]}" -o "$out/$name-clusters.h5"
        "$bin/mt-eval" cluster "$out/$name-clusters.h5" --truth "$ssl/train.h5" "${flags[@]}" --json "$out/$name-clusters.json" >/dev/null
        accuracy=$(printf '%.2f %%' "$(awk -v v="$(scalar "$out/$name-clusters.json" hungarian_accuracy)" 'BEGIN { print 100 * v }')")
        nmi=$(printf '%.3f' "$(scalar "$out/$name-clusters.json" nmi)")
        ari=$(printf '%.3f' "$(scalar "$out/$name-clusters.json" ari)")
    fi
    printf '| %s | %s | %s | %s | %s | %.2f %% | %.2f %% |\n' "$name" "$seconds" "$accuracy" "$nmi" "$ari" \
        "$(awk -v v="$(scalar "$out/$name-metric.json" linear_accuracy)" 'BEGIN { print 100 * v }')" \
        "$(awk -v v="$(scalar "$out/$name-metric.json" accuracy)" 'BEGIN { print 100 * v }')" | tee -a "$results"
}

# train NAME ARGS...: trains a metric network unless it exists; prints its wall time (or "kept").
train() {
    local name=$1; shift
    if [ -f "$out/$name.h5" ]; then
        # Trained earlier: its own record of the time (every artifact keeps mt_elapsed_seconds).
        "$py" -c "import h5py,sys; print('%.0f' % h5py.File(sys.argv[1]).attrs['mt_elapsed_seconds'])" "$out/$name.h5"
        return
    fi
    local start end
    start=$(date +%s.%N)
    "$bin/mt-train" metric "$ssl/train.h5" --arch mnist-cnn "$@" "${flags[@]}" -o "$out/$name.h5" >&2
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }'
}

name="selflabel-k10-h$SL_HEADS-u$SL_UPDATES-e$SL_EPOCHS"
grep -qF "| $name |" "$results" || measure "$name" "$out/$name.h5" \
    "$(train "$name" --objective selflabel --clusters 10 --heads "$SL_HEADS" --label-updates "$SL_UPDATES" --epochs "$SL_EPOCHS")" yes
name="instance-e$INSTANCE_EPOCHS"
[ "$INSTANCE_EPOCHS" = 0 ] || grep -qF "| $name |" "$results" || measure "$name" "$out/$name.h5" "$(train "$name" --objective instance --epochs "$INSTANCE_EPOCHS")" no
if [ -f "$ssl/simclr-e2.h5" ] && ! grep -qF "| simclr-e2 |" "$results"; then
    measure simclr-e2 "$ssl/simclr-e2.h5" "(bench/ssl.sh's)" no
fi
# Self-labelling as the metric of metric transfer (pipelines/mnist.mk, METRIC=model:...): ncut pseudo-labels
# and a classifier finetuned from the self-label network, at PIPELINE_LABELS per class.
PIPELINE_LABELS=${PIPELINE_LABELS-1 10}
model="$out/selflabel-k10-h$SL_HEADS-u$SL_UPDATES-e$SL_EPOCHS.h5"
for labels in $PIPELINE_LABELS; do
    grep -qF "| pipeline, $labels per class |" "$results" && continue
    make -s -f "$root/pipelines/mnist.mk" MT_BIN="$bin" OUT="$out/pipeline" MNIST_DIR="$MNIST_DIR" THREADS="$THREADS" \
        METRIC="model:$model" LABELS_PER_CLASS="$labels" ITERATIONS=1000 evaluate >/dev/null
    run="$out/pipeline/mnist/model-$(basename "$model" .h5)/ncut-k20-n200/n$labels-s0"
    printf '| pipeline, %s per class | ncut pseudo-labels %.2f %% | finetuned (1000 steps) %.2f %% |\n' "$labels" \
        "$(awk -v v="$(scalar "$run/pseudo-metrics.json" accuracy)" 'BEGIN { print 100 * v }')" \
        "$(awk -v v="$(scalar "$run/select-ratio0.5-confidence/mnist-cnn-i1000/test-metrics.json" accuracy)" 'BEGIN { print 100 * v }')" | tee -a "$results"
done
echo "wrote $results"
