# Reference values for TestCompareAdjustsOverTheWholeReport (build_test.go).
# Run: Rscript family.R   (R 4.2) > family.R.txt
pb <- wilcox.test(c(1,2,2,3,-1,4,5,5,6,7)/16, exact=NULL, correct=TRUE)$p.value
pc <- wilcox.test(c(0,0,1,1,1,1,2,2,2,2)/16, exact=NULL, correct=TRUE)$p.value
cat(sprintf("raw %.17g %.17g\n", pb, pc))
for (m in c("holm", "bonferroni", "BH")) cat(m, sprintf("%.17g", p.adjust(c(pb, pc), m)), "\n")
cat(sprintf("eight ties %.17g\n", wilcox.test(rep(0.5, 8), exact=NULL, correct=TRUE)$p.value))
