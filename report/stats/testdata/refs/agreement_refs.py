# Reference values for agreement_refs_test.go.
# Run: /usr/bin/python3 agreement_refs.py   (scikit-learn 1.2, statsmodels 0.13, SciPy 1.10)
import numpy as np, scipy, sklearn, statsmodels
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa
from scipy.stats import spearmanr, kendalltau
print("versions", sklearn.__version__, statsmodels.__version__, scipy.__version__)
a = [1, 2, 2, 3, 4, 5, 5, 3, 2, 1, 4, 4, 3, 5, 1]
b = [1, 3, 2, 3, 5, 5, 4, 2, 2, 2, 4, 3, 3, 5, 1]
c = [2, 2, 1, 3, 3, 5, 3, 2, 1, 1, 5, 4, 4, 4, 2]  # nobody... uses all 1..5
for w in ["linear", "quadratic"]:
    print("kappa a,b", w, "%.15g" % cohen_kappa_score(a, b, weights=w))
    print("kappa a,c", w, "%.15g" % cohen_kappa_score(a, c, weights=w))
    # statsmodels takes the contingency table; its levels are the table's
    # row/column order (here sorted values, as sklearn's labels=None).
    labs = sorted(set(a) | set(b))
    tab = np.zeros((len(labs), len(labs)))
    for x, y in zip(a, b):
        tab[labs.index(x), labs.index(y)] += 1
    wt = "linear" if w == "linear" else "quadratic"
    print("statsmodels a,b", w, "%.15g" % cohens_kappa(tab, wt=wt).kappa)
    # labels= subset: pairs outside {1,2,3} dropped
    print("kappa a,b labels=[1,2,3]", w, "%.15g" % cohen_kappa_score(a, b, labels=[1, 2, 3], weights=w))
print("kappa a,b labels=[1,2,3] none", "%.15g" % cohen_kappa_score(a, b, labels=[1, 2, 3]))
# rank correlations with ties, n = 15
r = spearmanr(a, b); print("spearman a,b %.15g %.15g" % (r.correlation, r.pvalue))
r = kendalltau(a, b); print("kendall a,b %.15g %.15g" % (r.correlation, r.pvalue))
r = spearmanr(a, c); print("spearman a,c %.15g %.15g" % (r.correlation, r.pvalue))
r = kendalltau(a, c); print("kendall a,c %.15g %.15g" % (r.correlation, r.pvalue))
