"""PyTorch transcription of mt's semi-supervised losses, the independent reference of
Tests/UnitTests/SemiSupervisedLossTests.swift: reads one JSON case (argv[1]), prints the loss, d(loss)/d(student
logits) by autograd, the mask and any updated state, as JSON. Each method as its paper (or TorchSSL's
reference code, for FlexMatch's thresholds) defines it."""
import json
import sys

import torch
import torch.nn.functional as F

case = json.load(open(sys.argv[1]))

if case["method"] == "self-tuning":
    # TLlib's SelfTuning.forward from the projections on: unit queries (the student side) and keys [B, P],
    # the queue as TLlib keeps it, [P, classes * K] with class c in columns c*K ..< (c+1)*K.
    P, K, C, T = case["dimension"], case["per_class"], case["classes"], case["temperature"]
    h_q = torch.tensor(case["queries"], dtype=torch.float64).reshape(-1, P).requires_grad_()
    h_k = torch.tensor(case["keys"], dtype=torch.float64).reshape(-1, P)
    queue_list = torch.tensor(case["queue"], dtype=torch.float64).reshape(C * K, P).T.clone()
    queue_ptr = case["pointers"]
    labels = case["labels"]
    logits_pos = torch.einsum("nl,nl->n", [h_q, h_k]).unsqueeze(-1)
    cur = queue_list.clone().detach()
    negatives, positives = [], []
    for i, c in enumerate(labels):
        negatives.append(h_q[i:i + 1] @ torch.cat([cur[:, 0:c * K], cur[:, (c + 1) * K:]], dim=1))
        positives.append(h_q[i:i + 1] @ cur[:, c * K:(c + 1) * K])
        queue_list[:, c * K + queue_ptr[c]] = h_k[i]
        queue_ptr[c] = (queue_ptr[c] + 1) % K
    logits = torch.cat([logits_pos, torch.cat(positives), torch.cat(negatives)], dim=1)
    log_p = torch.nn.LogSoftmax(dim=1)(logits / T)
    target = torch.zeros_like(log_p)
    target[:, 0:K + 1] = 1.0 / (K + 1)
    loss = torch.nn.KLDivLoss(reduction="batchmean")(log_p, target)
    loss.backward()
    print(json.dumps({"loss": loss.item(), "gradient": h_q.grad.reshape(-1).tolist(), "mask_rate": 1.0,
                      "queue": queue_list.T.reshape(-1).tolist(), "pointers": queue_ptr}))
    sys.exit(0)

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
elif method == "soft-target":
    # Distillation (Hinton et al. 2015): the targets' softmax is q, the students are logits at temperature t.
    t = case["temperature"]
    w = torch.tensor(case["weights"], dtype=torch.float64)
    mask = torch.ones(T.shape[0], dtype=torch.float64)
    loss = t * t * (w * (-(probs * F.log_softmax(S / t, dim=1)).sum(dim=1))).mean()
elif method == "dst":
    # TLlib's WorstCaseEstimationLoss: targets are the main head's logits, students the worst-case head's,
    # labelled rows first.
    B = case["labeled_rows"]
    mask = torch.ones(T.shape[0], dtype=torch.float64)
    y_l, y_u, y_l_adv, y_u_adv = T[:B], T[B:], S[:B], S[B:]
    loss_l = case["eta_prime"] * F.cross_entropy(y_l_adv, y_l.max(dim=1)[1])
    loss_u = F.nll_loss(torch.log(torch.clamp(1.0 - F.softmax(y_u_adv, dim=1) + 1e-6, max=1.0)), y_u.max(dim=1)[1])
    loss = loss_l + loss_u
else:
    sys.exit(f"unknown method {method}")

loss.backward()
out.update(loss=loss.item(), gradient=S.grad.reshape(-1).tolist(), mask_rate=mask.mean().item())
print(json.dumps(out))
