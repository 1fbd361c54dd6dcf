# One-sided and two-sided MDE of the paired t-test for the scores of
# power.t.test solves delta with uniroot; tol = 1e-12 (its default is 1.2e-4).
# alternative_test.go (altScoresA/B), and the sign test of the
# opposite-direction case of scale_test.go.
a <- c(0.2, 0.5, 0.4, 0.9, 0.3, 0.6, 0.8, 0.1, 0.7, 0.5, 0.4, 0.6)
b <- c(0.4, 0.5, 0.7, 0.8, 0.6, 0.9, 0.8, 0.3, 0.9, 0.6, 0.2, 0.9)
d <- b - a
s <- sd(d)
f <- function(x) formatC(x, digits = 15, format = "g")
cat("two.sided strict delta", f(power.t.test(n = 12, sd = s, power = 0.8, sig.level = 0.05, type = "paired", alternative = "two.sided", strict = TRUE, tol = 1e-12)$delta), "\n")
cat("one.sided delta", f(power.t.test(n = 12, sd = s, power = 0.8, sig.level = 0.05, type = "paired", alternative = "one.sided", tol = 1e-12)$delta), "\n")
# 15 examples up by 0.1, 5 down by 0.9: mean difference -0.15, sign test 15 of 20.
cat("sign two.sided p", f(binom.test(15, 20)$p.value), "\n")
cat("sign greater p", f(binom.test(15, 20, alternative = "greater")$p.value), "\n")
