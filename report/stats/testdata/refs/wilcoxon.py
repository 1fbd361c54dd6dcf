# Reference values for stats.Wilcoxon from SciPy 1.10 (method="auto",
# correction=True). Run: /usr/bin/python3 wilcoxon.py > wilcoxon.py.txt
import warnings
import numpy as np
from scipy.stats import wilcoxon
warnings.simplefilter("ignore")
def gen(n):
    i = np.arange(1, n + 1)
    return np.where((i * 7) % 11 < 7, 1, -1) * i
cases = {
    "finding": [0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
    "zeros": [0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8],
    "notie": [1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10],
    "n51": gen(51),
}
for name, d in cases.items():
    for zm in ["wilcox", "pratt", "zsplit"]:
        r = wilcoxon(d, zero_method=zm, correction=True)
        print("%s %s T=%.15g p=%.15g" % (name, zm, r.statistic, r.pvalue))
