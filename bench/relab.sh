#!/usr/bin/env bash
# ReLaB's reliable pool on MNIST (issue 15's measurement, a benchmark, not a test): from the ncut
# pseudo-labels of the SimCLR metric, pools of N per class chosen four ways — the top-two margin
# (`--reliable N`), ReLaB's cleaning (`mt-select clean --per-class N`), the most confident per class
# (`--per-class-top N`) and plain ratio selection at the cleaned pool's size — and the precision of each
# pool's pseudo-labels (the labelled samples left out). With TRAIN_AT=N, a classifier finetuned from the
# metric on each pool of that size, and its test accuracy.
#
#   bench/relab.sh                                   # 1 and 10 labels per class, seeds 0-2, N = 10 50 100 500
#   LABELS=1 SEEDS=0 TRAIN_AT=100 bench/relab.sh
#
# Reuses bench/ssl.sh's data, metric, features and eigenpairs (bench/out/ssl; run bench/ssl.sh first, or
# it makes them); writes bench/out/relab/results.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup h5py numpy
THREADS=${THREADS:-2}
LABELS=${LABELS:-1 10}
SEEDS=${SEEDS:-0 1 2}
POOLS=${POOLS:-10 50 100 500}
TRAIN_AT=${TRAIN_AT:-}
ITERATIONS=${ITERATIONS:-300}
ssl="$root/bench/out/ssl" out="$root/bench/out/relab"
mkdir -p "$out"
flags=(--threads "$THREADS" -q)
for needed in train.h5 test.h5 features.h5 eigen.h5 simclr-e2.h5; do
    [ -f "$ssl/$needed" ] || { echo "bench/relab.sh: $ssl/$needed is missing: run CHAIN=yes bash bench/ssl.sh first" >&2; exit 2; }
done
results="$out/results.md"
[ -f "$results" ] || printf '| labels/class | seed | pool/class | selection | pool size | precision | test accuracy |\n| ---: | ---: | ---: | --- | ---: | ---: | ---: |\n' >"$results"

precision() { selection_precision "$1" "$ssl/train.h5"; }

for seed in $SEEDS; do
    for labels in $LABELS; do
        split="$out/split-n$labels-s$seed.h5" pseudo="$out/ncut-n$labels-s$seed.h5"
        [ -f "$split" ] || "$bin/mt-select" split "$ssl/train.h5" --per-class "$labels" --seed "$seed" "${flags[@]}" -o "$split"
        [ -f "$pseudo" ] || "$bin/mt-ncut" propagate "$ssl/eigen.h5" --split "$split" "${flags[@]}" -o "$pseudo"
        unlabeled=$(( 60000 - 10 * labels ))
        for n in $POOLS; do
            tag="n$labels-s$seed-p$n"
            [ -f "$out/clean-$tag.h5" ] || "$bin/mt-select" clean "$pseudo" --features "$ssl/features.h5" --per-class "$n" "${flags[@]}" -o "$out/clean-$tag.h5"
            [ -f "$out/reliable-$tag.h5" ] || "$bin/mt-select" pseudo "$pseudo" --reliable "$n" "${flags[@]}" -o "$out/reliable-$tag.h5"
            [ -f "$out/top-$tag.h5" ] || "$bin/mt-select" pseudo "$pseudo" --per-class-top "$n" "${flags[@]}" -o "$out/top-$tag.h5"
            read -r size _ < <(precision "$out/clean-$tag.h5")
            ratio=$(awk -v s="$size" -v u="$unlabeled" 'BEGIN { printf "%.10f", (s + 0.5) / u }')
            [ -f "$out/ratio-$tag.h5" ] || "$bin/mt-select" pseudo "$pseudo" --ratio "$ratio" "${flags[@]}" -o "$out/ratio-$tag.h5"
            for way in clean reliable top ratio; do
                selection="$out/$way-$tag.h5"
                row=$(grep -F "| $labels | $seed | $n | $way |" "$results" || true)
                # A row is kept unless it lacks the test accuracy TRAIN_AT now asks for (then it is measured again).
                if [ -n "$row" ]; then
                    if [ "$n" != "$TRAIN_AT" ] || [ "${row%— |}" = "$row" ]; then continue; fi
                    grep -vF "| $labels | $seed | $n | $way |" "$results" > "$results.tmp" && mv "$results.tmp" "$results"
                fi
                read -r count value < <(precision "$selection")
                accuracy="—"
                if [ "$n" = "$TRAIN_AT" ]; then
                    model="$out/model-$way-$tag.h5"
                    [ -f "$model" ] || "$bin/mt-train" classifier "$ssl/train.h5" --split "$split" --selection "$selection" --init "$ssl/simclr-e2.h5" \
                        --arch mnist-cnn --iterations "$ITERATIONS" --batch-size 128 --seed "$seed" "${flags[@]}" -o "$model"
                    "$bin/mt-eval" model "$model" "$ssl/test.h5" "${flags[@]}" --json "$model.json"
                    accuracy=$("$py" -c "import json,sys; print('%.2f %%' % (100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$model.json")
                fi
                printf '| %s | %s | %s | %s | %s | %s %% | %s |\n' "$labels" "$seed" "$n" "$way" "$count" "$value" "$accuracy" | tee -a "$results"
            done
        done
    done
done
echo "wrote $results"
