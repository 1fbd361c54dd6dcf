# Reference values for stats.Wilcoxon with a one-sided alternative (R 4.2).
# Rscript wilcoxon_alt.R > wilcoxon_alt.R.txt
options(digits = 15)
gen <- function(n) { i <- 1:n; ifelse((i*7) %% 11 < 7, 1, -1) * i }
cases <- list(
  notie = c(1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10),
  ties = c(1, 2, 2, 3, -1, 4, 5, 5, 6, 7),
  zeros = c(0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8),
  neg = -c(1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10),
  n60 = gen(60)
)
for (nm in names(cases)) for (cc in c(TRUE, FALSE)) for (alt in c("two.sided", "greater", "less")) {
  r <- suppressWarnings(wilcox.test(cases[[nm]], exact = NULL, correct = cc, alternative = alt))
  cat(sprintf("%s cc=%s %s V=%.15g p=%.15g method=%s\n", nm, cc, alt, r$statistic, r$p.value, r$method))
}
