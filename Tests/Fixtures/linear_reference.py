"""PyTorch reference of mt's LogisticRegression (Tests/UnitTests/MetricEvaluationTests.swift): full-batch
gradient descent with momentum on the mean cross-entropy of softmax(x W^T + b), weight decay on W only,
from zero, as torch.optim.SGD does it. Reads one JSON case (argv[1]), prints W^T [D, K] flattened, b and
the probabilities of the training rows after `epochs` steps, as JSON."""
import json
import sys

import torch
import torch.nn.functional as F

case = json.load(open(sys.argv[1]))
D, K = case["dimension"], case["classes"]
X = torch.tensor(case["features"], dtype=torch.float64).reshape(-1, D)
y = torch.tensor(case["labels"])
W = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
b = torch.zeros(K, dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.SGD([{"params": [W], "weight_decay": case["weight_decay"]}, {"params": [b], "weight_decay": 0.0}],
                            lr=case["lr"], momentum=case["momentum"])
for _ in range(case["epochs"]):
    optimizer.zero_grad()
    F.cross_entropy(X @ W.T + b, y).backward()
    optimizer.step()
with torch.no_grad():
    probs = (X @ W.T + b).softmax(dim=1)
print(json.dumps({"weights": W.T.reshape(-1).tolist(), "bias": b.tolist(), "probs": probs.reshape(-1).tolist()}))
