#!/usr/bin/env bash
# Teacher/student on MNIST (issue 15's measurement, a benchmark, not a test), Yalniz et al.'s recipe:
# a teacher predicts every training image (`mt-train predict`), each class keeps the K images it scores
# highest among those with the class in their top P (`mt-select pseudo --per-class-top K --top-classes P
# --exclude-labeled`), a student learns from that selection alone, then is finetuned on the labels. Two
# teachers: `labels` (mnist-cnn on the labelled images alone, 1000 steps of 32) and `metric-transfer` (the
# classifier finetuned from the SimCLR metric on the ncut pseudo-labels, bench/ssl.sh's). Test accuracy of
# the teacher, the student and the finetuned student.
#
#   bench/teacher_student.sh                              # 1 and 10 labels per class, seed 0, K = 500 5000, P = 1 3
#   LABELS=1 KS="1000" PS="1 3" bench/teacher_student.sh
#
# Reuses bench/ssl.sh's data, splits and metric-transfer classifiers (bench/out/ssl; a missing one is
# trained here as bench/ssl.sh would); writes bench/out/teacher-student/results.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup h5py numpy
THREADS=${THREADS:-2}
LABELS=${LABELS:-1 10}
SEEDS=${SEEDS:-0}
KS=${KS:-500 5000}
PS=${PS:-1 3}
STUDENT_STEPS=${STUDENT_STEPS:-300}
FINETUNE_STEPS=${FINETUNE_STEPS:-100}
ssl="$root/bench/out/ssl" out="$root/bench/out/teacher-student"
mkdir -p "$out"
flags=(--threads "$THREADS" -q)
for needed in train.h5 test.h5 eigen.h5 simclr-e2.h5; do
    [ -f "$ssl/$needed" ] || { echo "bench/teacher_student.sh: $ssl/$needed is missing: run CHAIN=yes bash bench/ssl.sh first" >&2; exit 2; }
done
results="$out/results.md"
[ -f "$results" ] || printf '| labels/class | seed | teacher | teacher test | K x P | selection precision | student test | finetuned test |\n| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |\n' >"$results"

accuracy() {
    [ -f "$1.json" ] || "$bin/mt-eval" model "$1" "$ssl/test.h5" "${flags[@]}" --json "$1.json" >/dev/null
    "$py" -c "import json,sys; print('%.2f %%' % (100 * json.load(open(sys.argv[1]))['runs'][0]['scalars']['accuracy']))" "$1.json"
}
precision() { read -r _ value < <(selection_precision "$1" "$ssl/train.h5"); echo "$value %"; }

for seed in $SEEDS; do
    for labels in $LABELS; do
        split="$ssl/split-n$labels-s$seed.h5"
        [ -f "$split" ] || "$bin/mt-select" split "$ssl/train.h5" --per-class "$labels" --seed "$seed" "${flags[@]}" -o "$split"
        # The two teachers, named as bench/ssl.sh names them (so its runs are reused).
        weak="$ssl/erm-n$labels-s$seed-i1000.h5" strong="$ssl/finetune-n$labels-s$seed-i1000.h5"
        [ -f "$weak" ] || "$bin/mt-train" classifier "$ssl/train.h5" --split "$split" --arch mnist-cnn --iterations 1000 --batch-size 32 \
            --lr 0.03 --nesterov --seed "$seed" "${flags[@]}" -o "$weak"
        if [ ! -f "$strong" ]; then
            pseudo="$ssl/ncut-n$labels-s$seed.h5" selection="$ssl/selection-n$labels-s$seed.h5"
            [ -f "$pseudo" ] || "$bin/mt-ncut" propagate "$ssl/eigen.h5" --split "$split" "${flags[@]}" -o "$pseudo"
            [ -f "$selection" ] || "$bin/mt-select" pseudo "$pseudo" --ratio 1 --weights confidence "${flags[@]}" -o "$selection"
            "$bin/mt-train" classifier "$ssl/train.h5" --split "$split" --selection "$selection" --init "$ssl/simclr-e2.h5" --arch mnist-cnn \
                --iterations 1000 --batch-size 128 --seed "$seed" "${flags[@]}" -o "$strong"
        fi
        for teacher in labels metric-transfer; do
            model=$weak; [ "$teacher" = labels ] || model=$strong
            tag="n$labels-s$seed-$teacher"
            predictions="$out/predictions-$tag.h5"
            [ -f "$predictions" ] || "$bin/mt-train" predict "$model" "$ssl/train.h5" --split "$split" "${flags[@]}" -o "$predictions"
            teacher_accuracy=$(accuracy "$model")
            for k in $KS; do
                for p in $PS; do
                    grep -qF "| $labels | $seed | $teacher | $teacher_accuracy | ${k}x$p |" "$results" && continue
                    selection="$out/selection-$tag-top${k}x$p.h5" student="$out/student-$tag-top${k}x$p.h5"
                    [ -f "$selection" ] || "$bin/mt-select" pseudo "$predictions" --per-class-top "$k" --top-classes "$p" --exclude-labeled \
                        "${flags[@]}" -o "$selection"
                    [ -f "$student" ] || "$bin/mt-train" classifier "$ssl/train.h5" --selection "$selection" --arch mnist-cnn \
                        --iterations "$STUDENT_STEPS" --batch-size 128 --seed "$seed" "${flags[@]}" -o "$student"
                    [ -f "$student.finetuned.h5" ] || "$bin/mt-train" classifier "$ssl/train.h5" --split "$split" --init "$student" \
                        --arch mnist-cnn --iterations "$FINETUNE_STEPS" --batch-size 32 --lr 0.01 --seed "$seed" "${flags[@]}" -o "$student.finetuned.h5"
                    printf '| %s | %s | %s | %s | %sx%s | %s | %s | %s |\n' "$labels" "$seed" "$teacher" "$teacher_accuracy" "$k" "$p" \
                        "$(precision "$selection")" "$(accuracy "$student")" "$(accuracy "$student.finetuned.h5")" | tee -a "$results"
                done
            done
        done
    done
done
echo "wrote $results"
