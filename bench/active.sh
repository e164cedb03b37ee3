#!/usr/bin/env bash
# The active loop on MNIST (issue 19's measurement, a benchmark, not a test). The training images are
# written to a PNG folder (one file per image, a path,label CSV) and imported back with
# `mt-features import images`, as a labelling team's photos would be; the import is checked to hold
# exactly the pixels and labels of the idx import. Then, per seed: 1 label per class, and ROUNDS rounds of
# ncut propagation -> `mt-select query --budget BUDGET --by WAY` -> answers from the ground truth
# (`mt-select split --from-csv --oracle`), for WAY = margin, mix and random (random being "the same number
# of randomly chosen labels"). Pseudo-label accuracy on the training images after every
# round; after the last round, ratio-1 selection and a classifier finetuned from the metric for ITERATIONS
# steps, and its test accuracy.
#
#   bench/active.sh                         # seeds 0-2, 10 rounds of 10 labels, margin mix random
#   SEEDS=0 WAYS="margin random" bench/active.sh
#
# Reuses bench/ssl.sh's SimCLR metric (2 epochs), features and eigenpairs in bench/out/ssl, making them
# when missing (MNIST_DIR: the four MNIST files); writes bench/out/active/results.md (accuracy per round) and final.md (finetuned).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup h5py numpy pillow
THREADS=${THREADS:-2}
SEEDS=${SEEDS:-0 1 2}
WAYS=${WAYS:-margin mix random}
ROUNDS=${ROUNDS:-10}
BUDGET=${BUDGET:-10}
ITERATIONS=${ITERATIONS:-300}
ssl="$root/bench/out/ssl" out="$root/bench/out/active"
mkdir -p "$out"
flags=(--threads "$THREADS" -q)
MNIST_DIR=${MNIST_DIR:-$root/../shared/datasets/mnist}
mnist_metric_artifacts "$ssl" 2

# The training images as PNG files named by their index (sorted names keep MNIST's order, so the
# metric's features and eigenpairs of bench/out/ssl stay valid for the imported data set).
folder="$out/mnist-png"
if [ ! -f "$folder/labels.csv" ]; then
    "$py" - "$ssl/train.h5" "$folder" <<'PY'
import sys, os, h5py
from PIL import Image
with h5py.File(sys.argv[1]) as f:
    images = f["images"][:]; labels = f["labels"][:]
os.makedirs(sys.argv[2] + "/images", exist_ok=True)
with open(sys.argv[2] + "/labels.csv.tmp", "w") as table:
    table.write("path,label\n")
    for i, (image, label) in enumerate(zip(images, labels)):
        Image.fromarray(image[:, :, 0]).save(f"{sys.argv[2]}/images/{i:05d}.png")
        table.write(f"images/{i:05d}.png,{label}\n")
os.replace(sys.argv[2] + "/labels.csv.tmp", sys.argv[2] + "/labels.csv")
PY
fi
train="$out/train-from-png.h5"
if [ ! -f "$train" ]; then
    start=$(date +%s%N)
    "$bin/mt-features" import images "$folder" --labels "$folder/labels.csv" "${flags[@]}" -o "$train"
    echo "imported 60000 PNG files in $(( ($(date +%s%N) - start) / 1000000 )) ms"
fi
"$py" - "$train" "$ssl/train.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as a, h5py.File(sys.argv[2]) as b:
    same = np.array_equal(a["images"][:], b["images"][:]) and np.array_equal(a["labels"][:], b["labels"][:])
    if not same:
        sys.exit("bench/active.sh: the PNG import differs from the idx import")
    print("PNG import: pixels and labels identical to the idx import; paths", a["paths"][0].decode(), "...")
PY

results="$out/results.md" final="$out/final.md"
if [ ! -f "$results" ]; then
    printf '| seed | query | round | labels | pseudo-label accuracy |\n| ---: | --- | ---: | ---: | ---: |\n' >"$results"
fi
[ -f "$final" ] || printf '| seed | query | labels | pseudo-label accuracy | finetuned test accuracy |\n| ---: | --- | ---: | ---: | ---: |\n' >"$final"
accuracy_of() { "$py" -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$1"; }

for seed in $SEEDS; do
    for way in $WAYS; do
        dir="$out/$way-b$BUDGET-s$seed"
        mkdir -p "$dir"
        [ -f "$dir/split0.h5" ] || "$bin/mt-select" split "$train" --per-class 1 --seed "$seed" "${flags[@]}" -o "$dir/split0.h5"
        for round in $(seq 0 "$ROUNDS"); do
            pseudo="$dir/pseudo$round.h5"
            [ -f "$pseudo" ] || "$bin/mt-ncut" propagate "$ssl/eigen.h5" --split "$dir/split$round.h5" "${flags[@]}" -o "$pseudo"
            labels=$(( 10 + round * BUDGET ))
            if ! grep -qF "| $seed | $way | $round |" "$results"; then
                "$bin/mt-eval" pseudo "$pseudo" --truth "$train" "${flags[@]}" --json "$pseudo.json"
                printf '| %s | %s | %s | %s | %s %% |\n' "$seed" "$way" "$round" "$labels" "$(accuracy_of "$pseudo.json")" | tee -a "$results"
            fi
            [ "$round" = "$ROUNDS" ] && break
            next=$(( round + 1 ))
            [ -f "$dir/queries$round.csv" ] || "$bin/mt-select" query "$pseudo" --budget "$BUDGET" --by "$way" \
                --features "$ssl/features.h5" --dataset "$train" --seed "$seed" "${flags[@]}" -o "$dir/queries$round.csv"
            [ -f "$dir/split$next.h5" ] || "$bin/mt-select" split "$train" --merge "$dir/split$round.h5" \
                --from-csv "$dir/queries$round.csv" --oracle "${flags[@]}" -o "$dir/split$next.h5"
        done
        grep -qF "| $seed | $way |" "$final" && continue
        last="$dir/pseudo$ROUNDS.h5"
        [ -f "$dir/selection.h5" ] || "$bin/mt-select" pseudo "$last" --ratio 1 --weights confidence "${flags[@]}" -o "$dir/selection.h5"
        [ -f "$dir/model.h5" ] || "$bin/mt-train" classifier "$train" --selection "$dir/selection.h5" --init "$ssl/simclr-e2.h5" \
            --arch mnist-cnn --iterations "$ITERATIONS" --batch-size 128 --seed "$seed" "${flags[@]}" -o "$dir/model.h5"
        "$bin/mt-eval" model "$dir/model.h5" "$ssl/test.h5" "${flags[@]}" --json "$dir/model.json"
        printf '| %s | %s | %s | %s %% | %s %% |\n' "$seed" "$way" "$(( 10 + ROUNDS * BUDGET ))" "$(accuracy_of "$last.json")" \
            "$(accuracy_of "$dir/model.json")" | tee -a "$final"
    done
done
echo "wrote $results and $final"
