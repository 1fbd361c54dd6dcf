# Reference values for KrippendorffAlpha (agreement_alpha_test.go), computed
# with a pairwise formulation independent of the coincidence-matrix code:
#   D_o = (1/n) Σ_u 1/(m_u-1) Σ_{i≠j in u} δ(v_i, v_j)
#   D_e = 1/(n(n-1)) Σ_{i≠j over all pairable values} δ(v_i, v_j)
#   alpha = 1 - D_o / D_e
# Run: /usr/bin/python3 krippendorff_alpha.py
import itertools, random

def alpha(units, metric):
    units = [u for u in units if len(u) >= 2]
    allv = [v for u in units for v in u]
    n = len(allv)
    freq = {}
    for v in allv:
        freq[v] = freq.get(v, 0) + 1
    levels = sorted(freq)
    def delta(a, b):
        if metric == "nominal":
            return 0.0 if a == b else 1.0
        if metric == "interval":
            return float(a - b) ** 2
        if metric == "ratio":
            return 0.0 if a + b == 0 else ((a - b) / (a + b)) ** 2
        lo, hi = min(a, b), max(a, b)
        s = sum(freq[g] for g in levels if lo <= g <= hi) - (freq[lo] + freq[hi]) / 2
        return s * s
    do = sum(sum(delta(a, b) for a, b in itertools.permutations(u, 2)) / (len(u) - 1) for u in units) / n
    de = sum(delta(a, b) for a, b in itertools.permutations(allv, 2)) / (n * (n - 1))
    return 1 - do / de

def units_from_matrix(rows):
    return [[r[i] for r in rows if r[i] is not None] for i in range(len(rows[0]))]

N = None
paper = [  # Krippendorff (2011), section C: 4 observers, 12 units
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
random.seed(7)
rnd = []
for u in range(30):
    vals = [random.choice([1, 2, 3, 4, 5]) for _ in range(4)]
    vals = [v for v in vals if random.random() > 0.25]
    rnd.append(vals)
print("random units:", rnd)
for name, units in [("paper", units_from_matrix(paper)), ("random", rnd)]:
    for metric in ["nominal", "ordinal", "interval", "ratio"]:
        print(name, metric, "%.15g" % alpha(units, metric))
