#!/usr/bin/env bash
# Few-label robustness on MNIST (issue 20's measurement, a benchmark, not a test): at LABELS labels per class
# over many seeds, the pseudo-label accuracy of kNN voting and the normalised cut without a class prior and
# with `--prior uniform` at several Sinkhorn powers and slacks, then the classifier finetuned from the SimCLR metric on
# the pseudo-labels of FINETUNE configurations (ratio 1, confidence weights, 300 steps: the README's recipe).
# Mean, standard deviation, worst seed and the seed list per configuration. IMBALANCED=yes adds the cost of a
# uniform prior when the truth is skewed: the subset where class k keeps 1/(k+1) of its images, with the
# uniform prior, and the true class marginals given as the prior (what a user who knows them passes as FILE).
#
#   bench/priors.sh                                         # 1 label per class, seeds 0-19, lambda 1 5 25, slack 0 0.1 0.2
#   SEEDS="$(seq 0 9)" FINETUNE="ncut:none ncut:uniform:5:0.1" bench/priors.sh
#   FINETUNE= IMBALANCED=yes bench/priors.sh               # pseudo-labels only, and the skewed subset
#
# Reuses bench/ssl.sh's data, SimCLR metric, graph and eigenpairs (bench/out/ssl, made here when missing);
# writes bench/out/priors/results.md (per-seed rows, then the summary).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup h5py numpy
THREADS=${THREADS:-2}
LABELS=${LABELS:-1}
SEEDS=${SEEDS:-$(seq 0 19)}
LAMBDAS=${LAMBDAS:-1 5 25}
SLACKS=${SLACKS:-0 0.1 0.2}
FINETUNE=${FINETUNE-ncut:none ncut:uniform:5:0.1}
FINETUNE_STEPS=${FINETUNE_STEPS:-300}
IMBALANCED=${IMBALANCED:-no}
MNIST_DIR=${MNIST_DIR:-$root/../shared/datasets/mnist}
ssl="$root/bench/out/ssl" out="$root/bench/out/priors"
mkdir -p "$out"
flags=(--threads "$THREADS" -q)
mnist_metric_artifacts "$ssl" 2

# accuracy FILE.json: the scalar accuracy of an mt-eval JSON report, in %.
accuracy() { "$py" -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$1"; }

# propagate METHOD PRIOR LAMBDA SLACK SPLIT EIGEN FEATURES OUT: one propagation (PRIOR none: without --prior).
propagate() {
    local method=$1 prior=$2 lambda=$3 slack=$4 split=$5 eigen=$6 features=$7 output=$8
    local options=()
    [ "$prior" = none ] || options=(--prior "$prior" --prior-lambda "$lambda" --prior-slack "$slack")
    [ -f "$output" ] && return
    if [ "$method" = ncut ]; then
        "$bin/mt-ncut" propagate "$eigen" --split "$split" "${options[@]}" "${flags[@]}" -o "$output"
    else
        "$bin/mt-knn" propagate "$features" --split "$split" "${options[@]}" "${flags[@]}" -o "$output"
    fi
}

# configurations METHOD:PRIOR:LAMBDA:SLACK of the pseudo-label sweep: every lambda at slack 0, every slack at lambda 5.
configs=()
for method in knn ncut; do
    configs+=("$method:none:-:-")
    for lambda in $LAMBDAS; do configs+=("$method:uniform:$lambda:0"); done
    for slack in $SLACKS; do [ "$slack" = 0 ] || configs+=("$method:uniform:5:$slack"); done
done
# tag METHOD PRIOR LAMBDA SLACK: the file-name part of a configuration.
tag() { echo "$1-$2$([ "$2" = none ] || echo "-l$3-b$4")"; }

rows="$out/rows-n$LABELS.tsv"   # config, seed, what, accuracy: one line per measurement, reruns append only what is new
touch "$rows"
record() { grep -q "^$1	$2	$3	" "$rows" || printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$rows"; }

for seed in $SEEDS; do
    split="$ssl/split-n$LABELS-s$seed.h5"
    [ -f "$split" ] || "$bin/mt-select" split "$ssl/train.h5" --per-class "$LABELS" --seed "$seed" "${flags[@]}" -o "$split"
    for config in "${configs[@]}"; do
        IFS=: read -r method prior lambda slack <<<"$config"
        pseudo="$out/pseudo-$(tag "$method" "$prior" "$lambda" "$slack")-n$LABELS-s$seed.h5"
        propagate "$method" "$prior" "$lambda" "$slack" "$split" "$ssl/eigen.h5" "$ssl/features.h5" "$pseudo"
        [ -f "$pseudo.json" ] || "$bin/mt-eval" pseudo "$pseudo" --truth "$ssl/train.h5" "${flags[@]}" --json "$pseudo.json" >/dev/null
        record "$config" "$seed" pseudo "$(accuracy "$pseudo.json")"
    done
    for config in $FINETUNE; do
        IFS=: read -r method prior lambda slack <<<"$config"
        lambda=${lambda:--} slack=${slack:--}
        tag="$(tag "$method" "$prior" "$lambda" "$slack")-n$LABELS-s$seed"
        pseudo="$out/pseudo-$tag.h5" selection="$out/selection-$tag.h5" model="$out/finetune-$tag-i$FINETUNE_STEPS.h5"
        propagate "$method" "$prior" "$lambda" "$slack" "$split" "$ssl/eigen.h5" "$ssl/features.h5" "$pseudo"
        # --balance none: the configuration alone decides the prior (mt-select would balance a 1-label draw itself).
        [ -f "$selection" ] || "$bin/mt-select" pseudo "$pseudo" --ratio 1 --weights confidence --balance none "${flags[@]}" -o "$selection"
        [ -f "$model" ] || "$bin/mt-train" classifier "$ssl/train.h5" --selection "$selection" --init "$ssl/simclr-e2.h5" --arch mnist-cnn \
            --iterations "$FINETUNE_STEPS" --seed "$seed" "${flags[@]}" -o "$model"
        [ -f "$model.json" ] || "$bin/mt-eval" model "$model" "$ssl/test.h5" "${flags[@]}" --json "$model.json" >/dev/null
        record "$method:$prior:$lambda:$slack" "$seed" finetuned "$(accuracy "$model.json")"
    done
done

if [ "$IMBALANCED" = yes ]; then
    # The skewed subset: class k keeps its first 1/(k+1) images, in the SimCLR embedding of the full set (the
    # metric saw every image without labels, as in the transductive setting); its own graph and eigenpairs.
    skew="$out/imbalanced"
    mkdir -p "$skew"
    if [ ! -f "$skew/features.h5" ]; then
        "$py" - "$ssl/features.h5" "$skew/features.h5.tmp" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f, h5py.File(sys.argv[2], "w") as g:
    labels = f["labels"][:]
    keep = np.sort(np.concatenate([np.flatnonzero(labels == k)[: (labels == k).sum() // (k + 1)] for k in range(10)]))
    for name, value in f.attrs.items(): g.attrs[name] = value
    g.attrs["inputs"] = np.array([sys.argv[1] + " (class k: first 1/(k+1) of its rows)"], dtype=h5py.string_dtype())
    for name in f:
        data = f[name]
        g.create_dataset(name, data=data[:][keep] if data.shape and data.shape[0] == len(labels) else data[()])
        for key, value in data.attrs.items(): g[name].attrs[key] = value
PY
        mv "$skew/features.h5.tmp" "$skew/features.h5"
    fi
    [ -f "$skew/graph.h5" ] || "$bin/mt-knn" graph "$skew/features.h5" -k 20 "${flags[@]}" -o "$skew/graph.h5"
    [ -f "$skew/eigen.h5" ] || "$bin/mt-ncut" eigen "$skew/graph.h5" -n 200 "${flags[@]}" -o "$skew/eigen.h5"
    for seed in $SEEDS; do
        split="$skew/split-n$LABELS-s$seed.h5"
        [ -f "$split" ] || "$bin/mt-select" split "$skew/features.h5" --per-class "$LABELS" --seed "$seed" "${flags[@]}" -o "$split"
        for config in knn:none:-:- ncut:none:-:- knn:uniform:5:0.1 ncut:uniform:5:0.1 knn:uniform:5:0 ncut:uniform:5:0 knn:true:5:0.1 ncut:true:5:0.1; do
            IFS=: read -r method prior lambda slack <<<"$config"
            given=$prior; [ "$prior" = true ] && given="$skew/features.h5"
            pseudo="$skew/pseudo-$(tag "$method" "$prior" "$lambda" "$slack")-n$LABELS-s$seed.h5"
            propagate "$method" "$given" "$lambda" "$slack" "$split" "$skew/eigen.h5" "$skew/features.h5" "$pseudo"
            [ -f "$pseudo.json" ] || "$bin/mt-eval" pseudo "$pseudo" --truth "$skew/features.h5" "${flags[@]}" --json "$pseudo.json" >/dev/null
            record "imbalanced $config" "$seed" pseudo "$(accuracy "$pseudo.json")"
        done
    done
fi

# The report: per configuration and measurement, mean, std (population), worst seed and the seeds.
"$py" - "$rows" "$LABELS" >"$out/results-n$LABELS.md" <<'PY'
import sys, collections, numpy as np
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    config, seed, what, value = line.rstrip("\n").split("\t")
    rows[(config, what)][int(seed)] = float(value)
print(f"#### {sys.argv[2]} label(s) per class: accuracy in % (pseudo: the 60,000 training images; finetuned: the 10,000 test images)\n")
print("| configuration (method:prior:lambda:slack) | measured | seeds | mean | std | worst (seed) | best |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
for (config, what), by_seed in rows.items():
    values = np.array([by_seed[s] for s in sorted(by_seed)])
    worst = min(by_seed, key=by_seed.get)
    seeds = sorted(by_seed)
    span = f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ",".join(map(str, seeds))
    print(f"| {config} | {what} | {span} ({len(seeds)}) | {values.mean():.2f} | {values.std():.2f} | {by_seed[worst]:.2f} ({worst}) | {values.max():.2f} |")
PY
cat "$out/results-n$LABELS.md"
echo "wrote $out/results-n$LABELS.md"
