# Reference values for report/stats compare_alt_test.go: R's paired t-test,
# sign test and exact McNemar with one-sided alternatives.
# Rscript paired_alt.R > paired_alt.R.txt
options(digits = 15)
p <- function(label, x) cat(sprintf("%s %.15g\n", label, x))
a <- c(0.2, 0.5, 0.4, 0.9, 0.3, 0.6, 0.8, 0.1, 0.7, 0.5, 0.4, 0.6)
b <- c(0.4, 0.5, 0.7, 0.8, 0.6, 0.9, 0.8, 0.3, 0.9, 0.6, 0.2, 0.9)
d <- b - a
for (alt in c("two.sided", "greater", "less")) {
  for (lv in c(0.95, 0.9)) {
    r <- t.test(b, a, paired = TRUE, alternative = alt, conf.level = lv)
    lab <- sprintf("t %s %.2f", alt, lv)
    p(paste(lab, "t"), r$statistic); p(paste(lab, "df"), r$parameter)
    p(paste(lab, "p"), r$p.value); p(paste(lab, "lo"), r$conf.int[1]); p(paste(lab, "hi"), r$conf.int[2])
  }
}
# A large n with a small effect: the p-value is tiny but not 0.
set.seed(1)
big <- seq(-1, 1, length.out = 20001) + 0.05
for (alt in c("two.sided", "greater", "less")) {
  r <- t.test(big, alternative = alt)
  p(sprintf("tbig %s t", alt), r$statistic); p(sprintf("tbig %s p", alt), r$p.value)
}
r <- tryCatch(t.test(c(0.3)), error = function(e) conditionMessage(e)); cat("t n=1:", r, "\n")
r <- tryCatch(t.test(c(0.2, 0.2, 0.2)), error = function(e) conditionMessage(e)); cat("t constant:", r, "\n")
r <- tryCatch(t.test(c(0, 0, 0))$p.value, error = function(e) conditionMessage(e)); cat("t zeros:", r, "\n")
# Sign test: binom.test on the non-zero differences.
signt <- function(d, alt) { pos <- sum(d > 0); neg <- sum(d < 0); binom.test(pos, pos + neg, 0.5, alternative = alt)$p.value }
for (alt in c("two.sided", "greater", "less")) p(sprintf("sign d %s", alt), signt(d, alt))
for (cnt in list(c(9, 2), c(2, 9), c(5, 5), c(40, 20), c(0, 7), c(300, 240))) {
  for (alt in c("two.sided", "greater", "less")) {
    p(sprintf("binom %d/%d %s", cnt[1], cnt[1] + cnt[2], alt), binom.test(cnt[1], cnt[1] + cnt[2], 0.5, alternative = alt)$p.value)
  }
}
