"""PyTorch transcription of mt's semi-supervised losses, the independent reference of
Tests/UnitTests/SemiSupervisedLossTests.swift: reads one JSON case (argv[1]), prints the loss, d(loss)/d(student
logits) by autograd, the mask and any updated state, as JSON. Each method as its paper (or TorchSSL's
reference code, for FlexMatch's thresholds) defines it."""
import json
import sys

import torch
import torch.nn.functional as F

case = json.load(open(sys.argv[1]))
K = case["classes"]
T = torch.tensor(case["targets"], dtype=torch.float64).reshape(-1, K)
S = torch.tensor(case["students"], dtype=torch.float64).reshape(-1, K).requires_grad_()
method = case["method"]
out = {}
with torch.no_grad():
    probs = T.softmax(dim=1)
    confidence, label = probs.max(dim=1)

if method in ("fixmatch", "pseudo-label"):
    mask = (confidence >= case["threshold"]).double()
    loss = (F.cross_entropy(S, label, reduction="none") * mask).mean()
elif method in ("pi-model", "mean-teacher"):
    mask = torch.ones(T.shape[0], dtype=torch.float64)
    loss = F.mse_loss(S.softmax(dim=1), probs)
elif method == "uda":
    mask = (confidence >= case["threshold"]).double()
    q = (T / case["sharpening"]).softmax(dim=1)
    loss = ((q * (q.log() - S.log_softmax(dim=1))).sum(dim=1) * mask).mean()
    logits = torch.tensor(case["labeled"], dtype=torch.float64).reshape(-1, K)
    labels = torch.tensor(case["labels"])
    t = case["progress"]
    alpha = {"linear": t, "log": 1 - torch.exp(torch.tensor(-5 * t)).item(), "exp": torch.exp(torch.tensor(5 * (t - 1))).item()}[case["tsa"]]
    eta = alpha * (1 - 1 / K) + 1 / K
    correct = logits.softmax(dim=1).gather(1, labels[:, None])[:, 0]
    out["supervised_mask"] = (correct <= eta).double().tolist()
elif method == "flexmatch":
    selected = torch.tensor(case["remembered"])
    counts = torch.bincount(selected[selected >= 0], minlength=K).double()
    never = (selected < 0).sum().item()
    denominator = max(counts.max().item(), never) if case["warmup"] else counts.max().item()
    beta = counts / denominator if denominator > 0 else torch.zeros(K, dtype=torch.float64)
    cutoff = case["threshold"] * (beta / (2 - beta))
    mask = (confidence >= cutoff[label]).double()
    loss = (F.cross_entropy(S, label, reduction="none") * mask).mean()
    samples = torch.tensor(case["samples"])
    chosen = confidence >= case["threshold"]
    selected[samples[chosen]] = label[chosen]
    out["remembered"] = selected.tolist()
elif method == "debiasmatch":
    qhat = torch.tensor(case["marginal"], dtype=torch.float64)
    m, tau = case["momentum"], case["tau"]
    qhat = m * qhat + (1 - m) * probs.mean(dim=0)
    qhat = qhat.float().double()  # mt keeps the marginal in float32
    debiased = (T - tau * qhat.log()).softmax(dim=1)
    dconf, dlabel = debiased.max(dim=1)
    mask = (dconf >= case["threshold"]).double()
    loss = (F.cross_entropy(S + tau * qhat.log(), dlabel, reduction="none") * mask).mean()
    out["marginal"] = qhat.tolist()
else:
    sys.exit(f"unknown method {method}")

loss.backward()
out.update(loss=loss.item(), gradient=S.grad.reshape(-1).tolist(), mask_rate=mask.mean().item())
print(json.dumps(out))
