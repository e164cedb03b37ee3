#!/usr/bin/env python3
"""Converts between PyTorch checkpoints and mt's `checkpoint` artifact (docs/FORMATS.md).

    torch2h5.py to-h5 model.pth --arch wrn-28-2 [--norm] [--mean M..] [--std S..] -o model.h5
    torch2h5.py to-torch model.h5 -o model.pth

torchvision's ImageNet models convert from their state_dict (no torchvision needed here):
    python -c "import torch, torchvision; torch.save(torchvision.models.resnet50(weights='IMAGENET1K_V2').state_dict(), 'r50.pth')"
    torch2h5.py to-h5 r50.pth --arch resnet50 -o resnet50.h5       # ImageNet mean/std recorded by default

to-h5 accepts a bare state_dict, {'net': state_dict} (the reference's checkpoints) or
{'state_dict': state_dict}; `module.` prefixes (DataParallel) are stripped. The keys must be exactly those of
mt's architecture (pipelines/tools/torch_models.py), shapes included. The input normalisation defaults to
ImageNet's for resnet18/resnet50, else the reference's CIFAR values for 3 channels and MNIST's for 1.
to-torch writes {'net': state_dict, 'arch', 'mean', 'std', 'norm'}, loadable with torch_models.build(arch, out_dim, channels).load_state_dict(ck['net']).
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import ARCHITECTURES, build  # noqa: E402

DEFAULT_NORMALISATION = {3: ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]), 1: ([0.1307], [0.3081])}
# torchvision's ImageNet weights expect (x / 255 - mean) / std with these (mt-features extract --norm imagenet).
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
HEAD = {"mnist-cnn": "fc", "wrn-28-2": "fc", "resnet18-cifar": "linear", "resnet18": "fc", "resnet50": "fc"}
STEM = {"mnist-cnn": "features.0.weight", "wrn-28-2": "conv1.weight", "resnet18-cifar": "conv1.weight",
        "resnet18": "conv1.weight", "resnet50": "conv1.weight"}


def load_state(path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(checkpoint, dict):
        for key in ("net", "state_dict", "model"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    if hasattr(checkpoint, "state_dict"):
        checkpoint = checkpoint.state_dict()
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in checkpoint.items()}


def to_h5(args):
    state = load_state(args.input)
    head = HEAD[args.arch]
    if f"{head}.bias" not in state:
        sys.exit(f"torch2h5: {args.input}: not a {args.arch} state_dict (no {head}.bias)")
    out_dim = state[f"{head}.bias"].shape[0]
    if STEM[args.arch] not in state:
        sys.exit(f"torch2h5: {args.input}: not a {args.arch} state_dict (no {STEM[args.arch]})")
    channels = state[STEM[args.arch]].shape[1]
    expected = build(args.arch, out_dim, channels).state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        sys.exit(f"torch2h5: {args.input}: keys do not match {args.arch}: missing {missing[:5]}, unexpected {extra[:5]}")
    for key, value in expected.items():
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            sys.exit(f"torch2h5: {args.input}: {key}: expected shape {tuple(value.shape)}, found {tuple(state[key].shape)}")
    if args.arch in ("resnet18", "resnet50") and channels == 3:
        mean, std = IMAGENET
    else:
        mean, std = DEFAULT_NORMALISATION.get(channels, ([0.0] * channels, [1.0] * channels))
    mean = args.mean or mean
    std = args.std or std
    tmp = args.output + ".tmp.h5"
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"mt_kind": "checkpoint", "mt_format_version": 1, "mt_tool": "torch2h5.py",
                        "mt_command": " ".join(sys.argv), "arch": args.arch, "input_channels": channels,
                        "output_dim": out_dim, "normalize_output": int(args.norm), "epoch": 0, "iteration": 0,
                        "args": "{}"})
        f.attrs["mt_inputs"] = [args.input]
        f["input/mean"] = np.asarray(mean, np.float32)
        f["input/std"] = np.asarray(std, np.float32)
        for key, value in state.items():
            array = value.detach().cpu().numpy()
            f[f"state/{key}"] = array.astype(np.int64) if key.endswith("num_batches_tracked") else array.astype(np.float32)
    os.replace(tmp, args.output)


def to_torch(args):
    with h5py.File(args.input, "r") as f:
        arch = f.attrs["arch"]
        arch = arch.decode() if isinstance(arch, bytes) else str(arch)
        if arch not in ARCHITECTURES:
            sys.exit(f"torch2h5: {args.input}: unknown arch {arch}")
        # HDF5 lists members alphabetically; keep PyTorch's state_dict order.
        order = list(build(arch, int(f.attrs["output_dim"]), int(f.attrs["input_channels"])).state_dict())
        state = {key: torch.from_numpy(np.asarray(f["state"][key])) for key in order if key in f["state"]}
        record = {"net": state, "arch": arch, "mean": f["input/mean"][:].tolist(), "std": f["input/std"][:].tolist(),
                  "norm": bool(f.attrs.get("normalize_output", 0))}
    torch.save(record, args.output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    h5 = sub.add_parser("to-h5", help="PyTorch checkpoint -> mt checkpoint")
    h5.add_argument("input")
    h5.add_argument("--arch", required=True, choices=sorted(ARCHITECTURES))
    h5.add_argument("--norm", action="store_true", help="the output is L2-normalised (metric embedding)")
    h5.add_argument("--mean", type=float, nargs="+")
    h5.add_argument("--std", type=float, nargs="+")
    h5.add_argument("-o", "--output", required=True)
    pt = sub.add_parser("to-torch", help="mt checkpoint -> PyTorch checkpoint")
    pt.add_argument("input")
    pt.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    to_h5(args) if args.command == "to-h5" else to_torch(args)


if __name__ == "__main__":
    main()
