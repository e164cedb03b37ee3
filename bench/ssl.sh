#!/usr/bin/env bash
# Semi-supervised methods on MNIST (issue 14's measurement, a benchmark, not a test): every method of
# `mt-train ssl` from scratch on LABELS labels per class, the supervised baseline (the labels alone) with the
# same step budget, metric-transfer finetuning, and the chain metric -> ncut pseudo-labels -> the confident
# half as the labelled set -> FlexMatch / FixMatch from the SimCLR metric (ReLaB's recipe). Test accuracy on the 10,000 MNIST test images and wall time per run.
#
#   bench/ssl.sh                                        # 4 labels per class, seed 0, 1000 steps of 32 + mu*32
#   LABELS="1 4" SEEDS="0 1 2" ITERATIONS=2000 bench/ssl.sh
#   METHODS="fixmatch flexmatch" CHAIN=no bench/ssl.sh
#   INIT=metric CHAIN=no bench/ssl.sh                  # every method from the SimCLR metric (INIT=both: and from scratch)
#
# ORACLE=yes (default) adds the all-labels classifier once (every training label, the same step budget).
#
# Writes bench/out/ssl/results.md (one row per run) and keeps every artifact under bench/out/ssl/.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
THREADS=${THREADS:-2}
LABELS=${LABELS:-4}
SEEDS=${SEEDS:-0}
ITERATIONS=${ITERATIONS:-1000}
BATCH=${BATCH:-32}
METHODS=${METHODS-pseudo-label pi-model mean-teacher uda fixmatch flexmatch debiasmatch dst self-tuning mixmatch}
CHAIN=${CHAIN:-yes}
INIT=${INIT:-scratch}
ORACLE=${ORACLE:-yes}
CHAIN_METHODS=${CHAIN_METHODS:-flexmatch fixmatch}
METRIC_EPOCHS=${METRIC_EPOCHS:-2}
MNIST_DIR=${MNIST_DIR:-$root/../shared/datasets/mnist}
out="$root/bench/out/ssl"
mkdir -p "$out"
swift build -c release --build-path "$root/.build-bench" --package-path "$root" >/dev/null
bin=$(swift build -c release --build-path "$root/.build-bench" --package-path "$root" --show-bin-path)
flags=(--threads "$THREADS" -q)

[ -f "$out/train.h5" ] || "$bin/mt-features" import mnist "$MNIST_DIR" --split train "${flags[@]}" -o "$out/train.h5"
[ -f "$out/test.h5" ] || "$bin/mt-features" import mnist "$MNIST_DIR" --split test "${flags[@]}" -o "$out/test.h5"

results="$out/results.md"
[ -f "$results" ] || printf '| run | labels/class | seed | steps | test accuracy | seconds |\n| --- | ---: | ---: | ---: | ---: | ---: |\n' >"$results"

# run NAME LABELS SEED MODEL COMMAND...: trains and appends its test accuracy, unless MODEL exists (a rerun
# adds only what is missing; delete a model to measure it again).
run() {
    local name=$1 labels=$2 seed=$3 model=$4; shift 4
    local start end
    if [ -f "$model" ]; then echo "kept $model (its row is in $results)"; return; fi
    start=$(date +%s.%N)
    "$@" "${flags[@]}" -o "$model"
    end=$(date +%s.%N)
    "$bin/mt-eval" model "$model" "$out/test.h5" "${flags[@]}" --json "$model.json"
    local accuracy
    accuracy=$(python3 -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$model.json")
    printf '| %s | %s | %s | %s | %s %% | %.0f |\n' "$name" "$labels" "$seed" "$ITERATIONS" "$accuracy" "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" | tee -a "$results"
}

metric="$out/simclr-e$METRIC_EPOCHS.h5"
if [ "$CHAIN" = yes ]; then
    # The metric (SimCLR, no labels), its embedding, graph and eigenpairs: shared by every seed.
    mnist_metric_artifacts "$out" "$METRIC_EPOCHS"
elif [ "$INIT" != scratch ]; then
    # The metric alone: INIT=metric's start.
    [ -f "$metric" ] || "$bin/mt-train" metric "$out/train.h5" --arch mnist-cnn --objective simclr --epochs "$METRIC_EPOCHS" "${flags[@]}" -o "$metric"
fi

if [ "$ORACLE" = yes ]; then
    run "oracle: every training label (ERM, batch 32)" all 0 "$out/oracle-i$ITERATIONS.h5" \
        "$bin/mt-train" classifier "$out/train.h5" --arch mnist-cnn --iterations "$ITERATIONS" --batch-size "$BATCH" --lr 0.03 --nesterov --seed 0
fi

for seed in $SEEDS; do
    for labels in $LABELS; do
        split="$out/split-n$labels-s$seed.h5"
        [ -f "$split" ] || "$bin/mt-select" split "$out/train.h5" --per-class "$labels" --seed "$seed" "${flags[@]}" -o "$split"
        tag="n$labels-s$seed-i$ITERATIONS"
        run "labels alone (ERM)" "$labels" "$seed" "$out/erm-$tag.h5" \
            "$bin/mt-train" classifier "$out/train.h5" --split "$split" --arch mnist-cnn --iterations "$ITERATIONS" \
            --batch-size "$BATCH" --lr 0.03 --nesterov --seed "$seed"
        for method in $METHODS; do
            if [ "$INIT" != metric ]; then
                run "$method" "$labels" "$seed" "$out/$method-$tag.h5" \
                    "$bin/mt-train" ssl "$out/train.h5" --split "$split" --method "$method" --arch mnist-cnn \
                    --iterations "$ITERATIONS" --batch-size "$BATCH" --seed "$seed"
            fi
            if [ "$INIT" != scratch ]; then
                run "$method from the SimCLR metric" "$labels" "$seed" "$out/$method-metric-$tag.h5" \
                    "$bin/mt-train" ssl "$out/train.h5" --split "$split" --method "$method" --arch mnist-cnn --init "$metric" \
                    --iterations "$ITERATIONS" --batch-size "$BATCH" --seed "$seed"
            fi
        done
        if [ "$CHAIN" = yes ]; then
            # Finetuning takes every pseudo-label (the README's recipe); the chain takes the more confident half
            # as its labelled set (ReLaB's reliable pool) and the rest as unlabelled images.
            pseudo="$out/ncut-n$labels-s$seed.h5" selection="$out/selection-n$labels-s$seed.h5" pool="$out/pool-n$labels-s$seed.h5"
            [ -f "$pseudo" ] || "$bin/mt-ncut" propagate "$out/eigen.h5" --split "$split" "${flags[@]}" -o "$pseudo"
            [ -f "$selection" ] || "$bin/mt-select" pseudo "$pseudo" --ratio 1 --weights confidence "${flags[@]}" -o "$selection"
            [ -f "$pool" ] || "$bin/mt-select" pseudo "$pseudo" --ratio 0.5 --weights confidence "${flags[@]}" -o "$pool"
            "$bin/mt-eval" pseudo "$pseudo" --truth "$out/train.h5" "${flags[@]}" --json "$pseudo.json"
            python3 -c "import json,sys; print('ncut pseudo-labels, %s/class, seed %s: %.2f %%' % (sys.argv[2], sys.argv[3], 100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$pseudo.json" "$labels" "$seed"
            run "metric transfer: finetune on ncut pseudo-labels" "$labels" "$seed" "$out/finetune-$tag.h5" \
                "$bin/mt-train" classifier "$out/train.h5" --split "$split" --selection "$selection" --init "$metric" --arch mnist-cnn \
                --iterations "$ITERATIONS" --batch-size 128 --seed "$seed"
            for method in $CHAIN_METHODS; do
                run "chain: simclr -> ncut -> $method" "$labels" "$seed" "$out/chain-$method-$tag.h5" \
                    "$bin/mt-train" ssl "$out/train.h5" --split "$split" --labeled-from "$pool" --init "$metric" --method "$method" \
                    --arch mnist-cnn --iterations "$ITERATIONS" --batch-size "$BATCH" --seed "$seed"
            done
        fi
    done
done
echo "wrote $results"
