#!/usr/bin/env python3
"""Collects the artifacts of a `make table` sweep into results.md: what each metric cost and how well it
separates the classes, the accuracy of every method at every label count (mean +- std over seeds), and
the time each stage took. Every number is read from files the pipeline wrote: the --json output of
mt-eval and the mt_elapsed_seconds attribute every artifact carries (read with h5dump, hdf5-tools).

Paths follow pipelines/mt.mk: METRIC_DIR/PROPAGATION_TAG/nL-sS/{pseudo.h5, pseudo-metrics.json,
select-TAG/TRAIN_TAG/{model.h5, test-metrics.json, roundR/...}}. Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess


def scalar(path, name="accuracy"):
    """A scalar of the first run of an mt-eval --json file, or None when the file is missing."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["runs"][0]["scalars"][name]


def elapsed(path):
    """Seconds the tool that wrote the artifact took, or None."""
    if not os.path.exists(path):
        return None
    try:
        out = subprocess.run(["h5dump", "-a", "/mt_elapsed_seconds", path], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("(0):"):
            return float(line.split(":", 1)[1])
    return None


def cell(values):
    """mean ± std of the values present; from three on, the worst one too (a user gets one draw)."""
    values = [100 * v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    text = f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"
    return text + f" (worst {min(values):.1f})" if len(values) >= 3 else text


def seed_list(seeds):
    """0-9 for a run of consecutive seeds, else the list."""
    numbers = [int(s) for s in seeds]
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(seeds)


def seconds(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    mean = statistics.mean(values)
    return f"{mean:.1f}" if mean >= 1 else f"{mean:.2f}"


class Sweep:
    def __init__(self, args):
        self.args = args
        self.propagations = dict(p.split("=", 1) for p in args.propagation)
        self.metrics = [m.split("=", 1) for m in args.metric]
        self.label_seeds = {int(l): seeds.split(",") for l, seeds in (x.split("=", 1) for x in args.label_seeds or [])}

    def seeds(self, labels):
        """The seeds measured at `labels` per class (more at one label, where the draw matters most)."""
        return self.label_seeds.get(labels, self.args.seeds)

    def run_dir(self, metric_dir, method, labels, seed):
        return os.path.join(metric_dir, self.propagations[method], f"n{labels}-s{seed}")

    def model_dir(self, metric_dir, method, labels, seed, round_):
        """The model directory of round `round_` (1 = finetuned from the metric) and its run directory."""
        run = self.run_dir(metric_dir, method, labels, seed)
        model = os.path.join(run, self.args.select_tag, self.args.train_tag)
        for r in range(2, round_ + 1):
            run = self.run_dir(os.path.join(model, f"round{r}"), method, labels, seed)
            model = os.path.join(run, self.args.select_tag, self.args.train_tag)
        return run, model

    def metric_table(self):
        lines = ["| metric | cost (s): training + embedding | 200-NN test accuracy | mean cosine (test) |",
                 "| --- | ---: | ---: | ---: |"]
        for name, directory in self.metrics:
            cost = [elapsed(os.path.join(directory, f)) for f in ("metric.h5", "features-train.h5", "features-test.h5")]
            evaluation = os.path.join(directory, "metric-test.json")
            cosine = scalar(evaluation, "mean_cosine")
            lines.append(f"| {name} | {sum(c for c in cost if c is not None):.1f} | {cell([scalar(evaluation)])} | "
                         + (f"{cosine:.3f}" if cosine is not None else "–") + " |")
        return lines

    def accuracy_table(self):
        a = self.args
        labels = a.labels
        header = "| method | measured on | " + " | ".join(f"{l * a.classes} labels" for l in labels) + " |"
        lines = [header, "| --- | --- |" + " ---: |" * len(labels)]

        def row(name, measured, values_for):
            lines.append(f"| {name} | {measured} | " + " | ".join(cell(values_for(l)) for l in labels) + " |")

        row("supervised only (the labelled images alone)", "test",
            lambda l: [scalar(os.path.join(a.supervised, f"n{l}-s{s}", a.train_tag, "test-metrics.json")) for s in self.seeds(l)])
        main_name, main_dir = self.metrics[-1]
        for name, directory in self.metrics:
            for method in self.propagations:
                row(f"{method}, {name}", "pseudo-labels",
                    lambda l: [scalar(os.path.join(self.run_dir(directory, method, l, s), "pseudo-metrics.json")) for s in self.seeds(l)])
        for method in self.propagations:
            for r in range(1, a.rounds + 1):
                seeds = (lambda l: self.seeds(l)) if r == 1 else (lambda l: a.round_seeds)
                suffix = "" if r == 1 else f", round {r}"
                if r > 1:
                    row(f"{method}, {main_name}{suffix}", "pseudo-labels",
                        lambda l: [scalar(os.path.join(self.model_dir(main_dir, method, l, s, r)[0], "pseudo-metrics.json"))
                                   for s in seeds(l)])
                row(f"{method}, {main_name}{suffix}, finetuned", "test",
                    lambda l: [scalar(os.path.join(self.model_dir(main_dir, method, l, s, r)[1], "test-metrics.json"))
                               for s in seeds(l)])
        for method in a.ssl or []:
            row(f"{method} (semi-supervised, the labelled images + the rest unlabelled)", "test",
                lambda l: [scalar(os.path.join(a.ssl_root, f"n{l}-s{s}", method + a.ssl_suffix, "test-metrics.json"))
                           for s in self.seeds(l)])
        for combination in a.teacher_student or []:
            students = lambda l, s, *rest: os.path.join(a.supervised, f"n{l}-s{s}", a.train_tag, "students", f"top{combination}",
                                                        a.train_tag, *rest, "test-metrics.json")
            row(f"student on the teacher's top {combination.replace('x', ' per class x top ')} classes", "test",
                lambda l: [scalar(students(l, s)) for s in self.seeds(l)])
            row(f"student on the teacher's top {combination.replace('x', ' per class x top ')} classes, finetuned", "test",
                lambda l: [scalar(students(l, s, "finetuned")) for s in self.seeds(l)])
        for pool in a.relab or []:
            for method in self.propagations:
                relab = lambda l, s, *rest: os.path.join(self.run_dir(main_dir, method, l, s), f"relab-p{pool}", *rest)
                row(f"{method}, {main_name}, ReLaB pool of {pool} per class", "pool",
                    lambda l: [scalar(relab(l, s, "pool-metrics.json")) for s in self.seeds(l)])
                row(f"{method}, {main_name}, trained on the ReLaB pool of {pool} per class", "test",
                    lambda l: [scalar(relab(l, s, a.train_tag, "test-metrics.json")) for s in self.seeds(l)])
        oracle = scalar(os.path.join(a.oracle, "test-metrics.json"))
        lines.append("| all labels (upper bound) | test | " + " | ".join(cell([oracle]) for _ in labels) + " |")
        return lines

    def time_table(self):
        a = self.args
        main_name, main_dir = self.metrics[-1]
        stages = [("learn the metric", "mt-train metric", [os.path.join(main_dir, "metric.h5")]),
                  ("embed the training images", "mt-features extract", [os.path.join(main_dir, "features-train.h5")]),
                  ("kNN graph (k=20)", "mt-knn graph", [os.path.join(main_dir, f) for f in os.listdir(main_dir)
                                                         if f.startswith("graph-")] if os.path.isdir(main_dir) else []),
                  ("eigenvectors", "mt-ncut eigen", [os.path.join(main_dir, f) for f in os.listdir(main_dir)
                                                     if f.startswith("eigen-")] if os.path.isdir(main_dir) else [])]
        runs = [(m, l, s) for m in self.propagations for l in a.labels for s in self.seeds(l)]
        for method in self.propagations:
            stages.append((f"propagate ({method})", "mt-knn propagate" if method == "knn" else "mt-ncut propagate",
                           [os.path.join(self.run_dir(main_dir, method, l, s), "pseudo.h5") for l in a.labels for s in self.seeds(l)]))
        stages.append(("select", "mt-select pseudo",
                       [os.path.join(self.run_dir(main_dir, m, l, s), a.select_tag, "selection.h5") for m, l, s in runs]))
        stages.append((f"finetune ({a.train_tag})", "mt-train classifier",
                       [os.path.join(self.model_dir(main_dir, m, l, s, 1)[1], "model.h5") for m, l, s in runs]))
        stages.append(("supervised only", "mt-train classifier",
                       [os.path.join(a.supervised, f"n{l}-s{s}", a.train_tag, "model.h5") for l in a.labels for s in self.seeds(l)]))
        stages.append(("all labels", "mt-train classifier", [os.path.join(a.oracle, "model.h5")]))
        lines = ["| stage | tool | seconds (mean) | runs |", "| --- | --- | ---: | ---: |"]
        for name, tool, paths in stages:
            values = [v for v in (elapsed(p) for p in paths) if v is not None]
            if not values:
                continue
            lines.append(f"| {name} | `{tool}` | {seconds(values)} | {len(values)} |")
        return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--metric", action="append", required=True,
                        help="NAME=DIR of a metric, repeated; the last one is finetuned and iterated")
    parser.add_argument("--propagation", action="append", required=True, help="METHOD=DIRECTORY_TAG, repeated")
    parser.add_argument("--labels", type=int, nargs="+", required=True, help="labels per class")
    parser.add_argument("--seeds", nargs="+", required=True)
    parser.add_argument("--label-seeds", action="append", help="L=S1,S2,...: other seeds at L labels per class, repeated")
    parser.add_argument("--round-seeds", nargs="+", default=["0"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--select-tag", required=True, help="e.g. select-ratio1-confidence")
    parser.add_argument("--train-tag", required=True, help="e.g. mnist-cnn-i300")
    parser.add_argument("--supervised", required=True, help="the supervised-only directory (holds nL-sS/TRAIN_TAG)")
    parser.add_argument("--oracle", required=True, help="the all-labels model directory")
    parser.add_argument("--ssl", nargs="*", help="semi-supervised methods (mt-train ssl) with a row each")
    parser.add_argument("--ssl-root", help="the ssl directory (holds nL-sS/METHOD+SUFFIX)")
    parser.add_argument("--ssl-suffix", default="", help="what follows the method in its directory name, e.g. -mnist-cnn-i1000")
    parser.add_argument("--teacher-student", nargs="*", help="KxP of the teacher/student rows (teacher: the supervised model)")
    parser.add_argument("--relab", nargs="*", help="ReLaB pool sizes per class with rows (pool precision, the classifier on it)")
    args = parser.parse_args()

    sweep = Sweep(args)
    text = ["### What each metric cost and how well it separates the digits", ""] + sweep.metric_table() + [
        "", f"### Accuracy in %, mean ± std (worst seed) over seeds {seed_list(args.seeds)}"
        + "".join(f"; {l} label{'s' if l > 1 else ''} per class: seeds {seed_list(s)}" for l, s in sweep.label_seeds.items())
        + (f" (rounds 2+: seed {', '.join(args.round_seeds)})" if args.rounds > 1 else ""), "",
        "Pseudo-labels are scored on the unlabelled training images, classifiers on the test images.", ""
    ] + sweep.accuracy_table() + ["", "### Time per stage (2 cores)", ""] + sweep.time_table()
    with open(args.out + ".tmp", "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
