# Reference values for stats.Wilcoxon (zero_method "wilcox", correction on).
# Run: Rscript wilcoxon.R   (R 4.2) > wilcoxon.R.txt
options(digits=15)
gen <- function(n) { i <- 1:n; ifelse((i*7) %% 11 < 7, 1, -1) * i }
big <- function(n) { i <- 1:n; ((i*37) %% 101) - 50 }
cases <- list(
  finding = c(0,0,1,1,1,1,2,2,2,2),
  ties = c(1,2,2,3,-1,4,5,5,6,7),
  notie = c(1.5,-0.5,2.25,3,4,-6,7,8,9,10),
  n1 = c(3),
  n1neg = c(-2),
  allequal = c(2,2,2,2,2),
  n49 = gen(49), n50 = gen(50), n51 = gen(51),
  big10000 = big(10000)
)
for (nm in names(cases)) {
  r <- suppressWarnings(wilcox.test(cases[[nm]], exact=NULL, correct=TRUE))
  cat(sprintf("%s V=%.15g p=%.15g method=%s\n", nm, r$statistic, r$p.value, r$method))
}
r <- suppressWarnings(wilcox.test(c(0,0,1,-1,2,3,-3,4,5,6,0,7,8), exact=NULL, correct=TRUE))
cat(sprintf("zeros V=%.15g p=%.15g\n", r$statistic, r$p.value))
r <- suppressWarnings(wilcox.test(c(0,0,0), exact=NULL, correct=TRUE))
cat(sprintf("allzero V=%.15g p=%.15g\n", r$statistic, r$p.value))
r <- suppressWarnings(wilcox.test(gen(20), exact=NULL, correct=FALSE))
cat(sprintf("n20nocc-exact V=%.15g p=%.15g\n", r$statistic, r$p.value))
r <- suppressWarnings(wilcox.test(cases$ties, exact=NULL, correct=FALSE))
cat(sprintf("ties-nocc V=%.15g p=%.15g\n", r$statistic, r$p.value))
# One zero and tied ranks, all nonzero differences positive: the exact
# sign-flip distribution of the 9 nonzero values gives 2/2^9 = 0.0039.
r <- suppressWarnings(wilcox.test(c(0,1,1,1,2,2,3,3,4,4), exact=NULL, correct=TRUE))
cat(sprintf("zero-and-ties V=%.15g p=%.15g\n", r$statistic, r$p.value))
