"""Writes the PyTorch parity fixtures that Tests/SharedTests/NetworkTorchParityTests.swift compares against.

Run from the repository root with torch installed:  python Tests/Fixtures/make_torch_fixtures.py

Weights are not random but a closed-form function of (parameter index, element index) that the Swift test
computes too (`fixtureValue` in the test), so the large networks need no stored weights; mnist-cnn's weights
are stored anyway (as /state/<key>) to test loading by key. Per model the file holds the input batch, the
eval-mode output (running statistics), the train-mode output, the weighted label-smoothed cross-entropy and
its gradients (input and selected parameters), and for mnist-cnn the parameters after two SGD steps.
"""
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pipelines", "tools"))
from torch_models import build  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def fixture_value(param_index, count, role, fan_in):
    """The closed-form fixture weights; mirrored exactly in Swift."""
    i = np.arange(count, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64((param_index + 1) * 40503)) % np.uint64(1 << 32)
    u = h.astype(np.float64) / float(1 << 32)
    if role == "weight":
        v = (u - 0.5) * 2.0 * np.sqrt(3.0 / fan_in)
    elif role == "bn_weight" or role == "running_var":
        v = 0.5 + u
    else:  # biases, running means
        v = (u - 0.5) * 0.2
    return v.astype(np.float32)


def role_of(key, tensor):
    if key.endswith("running_var"):
        return "running_var"
    if key.endswith("running_mean"):
        return "running_mean"
    if key.endswith("weight"):
        return "weight" if tensor.dim() > 1 else "bn_weight"
    return "bias"


def fill(model):
    state = model.state_dict()
    index = 0
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        fan_in = int(np.prod(tensor.shape[1:])) if tensor.dim() > 1 else 1
        value = fixture_value(index, tensor.numel(), role_of(key, tensor), fan_in)
        tensor.copy_(torch.from_numpy(value).reshape(tensor.shape))
        index += 1


def make(arch, in_channels, size, batch, out_dim, grad_keys, store_state, path):
    torch.manual_seed(0)
    model = build(arch, out_dim, in_channels).double()  # float64 reference; stored as float32
    fill(model)
    x = torch.randn(batch, in_channels, size, size, dtype=torch.float64)
    x = x.float().double()
    targets = torch.arange(batch) % out_dim
    weights = torch.linspace(0.5, 1.5, batch, dtype=torch.float64).float().double()
    with h5py.File(path, "w") as f:
        f["input"] = x.float().numpy()
        f["targets"] = targets.int().numpy()
        f["weights"] = weights.float().numpy()
        if store_state:
            for key, value in model.state_dict().items():
                f[f"state/{key}"] = value.numpy() if value.dtype == torch.int64 else value.float().numpy()
        model.eval()
        with torch.no_grad():
            f["output_eval"] = model(x).float().numpy()
            f["embedding_eval"] = model.embed(x).float().numpy()
        model.train()
        xg = x.clone().requires_grad_(True)
        out = model(xg)
        loss = (weights * F.cross_entropy(out, targets, reduction="none", label_smoothing=0.1)).mean()
        loss.backward()
        f["output_train"] = out.detach().float().numpy()
        f["loss"] = np.array([loss.item()], dtype=np.float64)
        f["grad/input"] = xg.grad.float().numpy()
        params = dict(model.named_parameters())
        for key in grad_keys:
            f[f"grad/{key}"] = params[key].grad.float().numpy()
        state = model.state_dict()
        for key in [k for k in state if k.endswith("running_mean")][:1]:
            f[f"after_train/{key}"] = state[key].float().numpy()
        if store_state:
            # Two SGD steps (the first one from the gradients above), as mt's SGD must reproduce.
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
            optimizer.step()
            optimizer.zero_grad()
            out = model(x)
            loss = (weights * F.cross_entropy(out, targets, reduction="none", label_smoothing=0.1)).mean()
            loss.backward()
            optimizer.step()
            for key in grad_keys:
                f[f"after_sgd/{key}"] = params[key].detach().float().numpy()
    print(path, os.path.getsize(path), "bytes")


def main():
    root = os.path.dirname(os.path.abspath(__file__))
    make("mnist-cnn", 1, 28, 4, 10, ["features.0.weight", "features.1.weight", "features.14.weight", "fc.weight", "fc.bias"],
         True, os.path.join(root, "torch-mnist-cnn.h5"))
    make("wrn-28-2", 3, 32, 2, 10, ["conv1.weight", "block1.layer.0.convShortcut.weight", "block3.layer.3.bn2.bias",
                                    "bn1.weight", "fc.weight"], False, os.path.join(root, "torch-wrn-28-2.h5"))
    make("resnet18-cifar", 3, 32, 2, 10, ["conv1.weight", "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.weight",
                                          "layer4.1.bn2.weight", "linear.weight"], False,
         os.path.join(root, "torch-resnet18-cifar.h5"))


if __name__ == "__main__":
    main()
