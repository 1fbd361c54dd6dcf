# SciPy 1.10 cross-check of paired_alt.R (same data):
# /usr/bin/python3 paired_alt.py > paired_alt.py.txt
import numpy as np
from scipy import stats
a = np.array([0.2, 0.5, 0.4, 0.9, 0.3, 0.6, 0.8, 0.1, 0.7, 0.5, 0.4, 0.6])
b = np.array([0.4, 0.5, 0.7, 0.8, 0.6, 0.9, 0.8, 0.3, 0.9, 0.6, 0.2, 0.9])
for alt in ["two-sided", "greater", "less"]:
    r = stats.ttest_rel(b, a, alternative=alt)
    print("t %s t %.15g p %.15g" % (alt, r.statistic, r.pvalue))
for k, n in [(9, 11), (2, 11), (5, 10), (40, 60), (0, 7), (300, 540)]:
    for alt in ["two-sided", "greater", "less"]:
        print("binom %d/%d %s %.15g" % (k, n, alt, stats.binomtest(k, n, 0.5, alternative=alt).pvalue))
