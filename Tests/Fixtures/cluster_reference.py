"""scikit-learn/scipy reference of mt's clustering metrics (Tests/UnitTests/ClusteringMetricsTests.swift):
reads {"assignments", "truth"} (argv[1], JSON; truth -1 = unknown, left out) and prints NMI, ARI, purity and
the Hungarian-matched accuracy (scipy's linear_sum_assignment on the contingency table) as JSON."""
import json
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

case = json.load(open(sys.argv[1]))
a, t = np.array(case["assignments"]), np.array(case["truth"])
keep = t >= 0
a, t = a[keep], t[keep]
table = contingency_matrix(t, a)  # rows classes, columns clusters (present ones)
rows, columns = linear_sum_assignment(table, maximize=True)
print(json.dumps({"nmi": normalized_mutual_info_score(t, a), "ari": adjusted_rand_score(t, a),
                  "purity": table.max(axis=0).sum() / len(t), "hungarian": table[rows, columns].sum() / len(t)}))
