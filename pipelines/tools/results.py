#!/usr/bin/env python3
"""Collects the metrics JSON files of a `make table` sweep into results.md: one row per label count and
propagation method, mean +- std over seeds of the pseudo-label accuracy, its accuracy-coverage AUC, the
accuracy of the most confident 20 %, and (when the sweep trained models) the test accuracy.

Arguments: --metric TAG --out FILE, then one LABELS:METHOD:SEED:RUN_DIR per run, where RUN_DIR holds
pseudo-metrics.json and possibly select-*/*/test-metrics.json. Standard library only.
"""
import argparse
import glob
import json
import os
import statistics


def scalar(path, name):
    with open(path) as f:
        return json.load(f)["runs"][0]["scalars"][name]


def cell(values):
    values = [100 * v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metric", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--with-test", action="store_true", help="add the finetuned models' test accuracy")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()

    rows = {}
    for run in args.runs:
        labels, method, seed, directory = run.split(":", 3)
        pseudo = os.path.join(directory, "pseudo-metrics.json")
        if not os.path.exists(pseudo):
            continue
        tests = sorted(glob.glob(os.path.join(directory, "select-*", "*", "test-metrics.json")))
        entry = rows.setdefault((int(labels), method), {"accuracy": [], "auc": [], "top20": [], "test": [], "seeds": []})
        entry["seeds"].append(seed)
        entry["accuracy"].append(scalar(pseudo, "accuracy"))
        entry["auc"].append(scalar(pseudo, "auc"))
        entry["top20"].append(scalar(pseudo, "accuracy_at_20"))
        if args.with_test:
            entry["test"].append(scalar(tests[0], "accuracy") if tests else None)

    lines = [
        f"Metric `{args.metric}`; mean ± std over seeds, in %.",
        "",
        "| labels/class | propagation | seeds | pseudo-label acc. | acc.-coverage AUC | acc. of top 20 % |"
        + (" test acc. |" if args.with_test else ""),
        "| ---: | --- | ---: | ---: | ---: | ---: |" + (" ---: |" if args.with_test else ""),
    ]
    for (labels, method), entry in sorted(rows.items()):
        lines.append(f"| {labels} | {method} | {len(entry['seeds'])} | {cell(entry['accuracy'])} | "
                     f"{cell(entry['auc'])} | {cell(entry['top20'])} |" + (f" {cell(entry['test'])} |" if args.with_test else ""))
    with open(args.out + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
