# Reference values for calibrate_test.go (scikit-learn 1.2.1, SciPy 1.10.1).
# Run: /usr/bin/python3 refs.py
from sklearn.metrics import cohen_kappa_score, accuracy_score
from scipy.stats import spearmanr, kendalltau
a = [1, 2, 2, 3, 4, 5, 5, 3, 2, 1, 4, 4, 3, 5, 1]  # human
b = [1, 3, 2, 3, 5, 5, 4, 2, 2, 2, 4, 3, 3, 5, 1]  # judge, score (b-1)/4 on 1:5
ha = ["pass" if x >= 3 else "fail" for x in a]
jb = ["pass" if x >= 3 else "fail" for x in b]
print("pass accuracy %.15g kappa %.15g" % (accuracy_score(ha, jb), cohen_kappa_score(ha, jb)))
print("label kappa %.15g" % cohen_kappa_score([str(x) for x in a], [str(x) for x in b]))
print("label kappa labels=1,2,3 %.15g" % cohen_kappa_score([str(x) for x in a], [str(x) for x in b], labels=["1", "2", "3"]))
s = [(x - 1) / 4 for x in b]
print("spearman %.15g %.15g" % tuple(spearmanr(a, s)))
print("kendall %.15g %.15g" % tuple(kendalltau(a, s)))
for w in ["linear", "quadratic"]:
    print(w, "%.15g" % cohen_kappa_score(a, b, weights=w), "labels=1,2,3 %.15g" % cohen_kappa_score(a, b, weights=w, labels=[1, 2, 3]))
keep = [i for i in range(len(a)) if a[i] <= 3 and b[i] <= 3]
print("labels=1,2,3 keeps", len(keep), "spearman %.15g %.15g" % tuple(spearmanr([a[i] for i in keep], [s[i] for i in keep])))
# Krippendorff's alpha of observers A, B, C alone (the paper's data without
# D), with the pairwise formulation of report/stats/testdata/refs/krippendorff_alpha.py.
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../report/stats/testdata/refs"))
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    import krippendorff_alpha as ka
for metric in ["nominal", "ordinal", "interval"]:
    print("alpha A,B,C", metric, "%.15g" % ka.alpha(ka.units_from_matrix(ka.paper[:3]), metric))
