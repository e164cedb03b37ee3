"""Writes the PyTorch parity fixtures that Tests/SharedTests/NetworkTorchParityTests.swift compares against.

Run from the repository root with torch installed:  python Tests/Fixtures/make_torch_fixtures.py [ARCH...]
(no ARCH: every fixture).

Weights are not random but a closed-form function of (parameter index, element index) that the Swift test
computes too (`fixtureValue` in the test), so the large networks need no stored weights; mnist-cnn's weights
are stored anyway (as /state/<key>) to test loading by key. Per model the file holds the input batch, the
eval-mode output (running statistics), the train-mode output, the weighted label-smoothed cross-entropy and
its gradients (input and selected parameters), and for mnist-cnn the parameters after two SGD steps; for
resnet50, whose train-mode gradients are ill-conditioned, how far PyTorch's own float32 is from them
(/float32_error/<name>), the tolerance the test allows mt in train mode.
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


def train_step(model, x, targets, weights, grad_keys):
    """Train-mode output, loss and gradients of one batch (the input's and grad_keys')."""
    model.train()
    xg = x.clone().requires_grad_(True)
    out = model(xg)
    loss = (weights * F.cross_entropy(out, targets, reduction="none", label_smoothing=0.1)).mean()
    loss.backward()
    params = dict(model.named_parameters())
    return {"output_train": out.detach(), "grad/input": xg.grad, **{f"grad/{k}": params[k].grad for k in grad_keys}}


def float32_errors(arch, in_channels, out_dim, x, targets, weights, grad_keys, reference):
    """How far PyTorch's own float32 lands from the float64 reference, per train-mode tensor (relative to
    the largest reference value). In a deep network with train-mode batchnorm over a few values per
    channel the gradients are ill-conditioned: float32 itself is percents off, and mt is held to that."""
    model = build(arch, out_dim, in_channels).double()
    fill(model)
    result = train_step(model.float(), x.float(), targets, weights.float(), grad_keys)
    return {k: float((result[k].double() - reference[k]).abs().max() / reference[k].abs().max()) for k in result}


def make(arch, in_channels, size, batch, out_dim, grad_keys, store_state, path, float32_reference=False):
    if len(sys.argv) > 1 and arch not in sys.argv[1:]:
        return
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
        train = train_step(model, x, targets, weights, grad_keys)
        for name, value in train.items():
            f[name] = value.float().numpy()
        out = train["output_train"]
        loss = (weights * F.cross_entropy(out, targets, reduction="none", label_smoothing=0.1)).mean()
        f["loss"] = np.array([loss.item()], dtype=np.float64)
        params = dict(model.named_parameters())
        if float32_reference:
            for name, error in float32_errors(arch, in_channels, out_dim, x, targets, weights, grad_keys, train).items():
                f[f"float32_error/{name}"] = np.array([error], dtype=np.float64)
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
    # torchvision's layouts on 64x64 inputs: every stage and stride (the last stage sees 2x2 maps).
    make("resnet18", 3, 64, 2, 10, ["conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
                                    "layer4.1.bn2.weight", "fc.weight"], False, os.path.join(root, "torch-resnet18.h5"))
    make("resnet50", 3, 64, 2, 10, ["conv1.weight", "layer1.0.downsample.0.weight", "layer1.0.conv2.weight",
                                    "layer4.2.bn3.bias", "fc.weight"], False, os.path.join(root, "torch-resnet50.h5"),
         float32_reference=True)


if __name__ == "__main__":
    main()
