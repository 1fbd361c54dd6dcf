# Reference values for report/stats power_test.go (TestPairedTMatchesPowerTTest).
# Rscript power_t_test.R > power_t_test.out
# power.t.test solves n and delta with uniroot; tol = 1e-12 makes the
# root good to far better than the test's tolerance.
p <- function(label, x) cat(sprintf("%s %.15g\n", label, x))
tt <- function(...) power.t.test(type = "paired", tol = 1e-12, ...)
p("n d=0.1 sd=0.3 a=0.05 pw=0.8", tt(delta = 0.1, sd = 0.3, power = 0.8)$n)
p("n d=0.5 sd=1 a=0.01 pw=0.9", tt(delta = 0.5, sd = 1, sig.level = 0.01, power = 0.9)$n)
p("n d=2 sd=1 a=0.05 pw=0.8", tt(delta = 2, sd = 1, power = 0.8)$n)
p("n d=0.1 sd=0.3 a=0.05 pw=0.8 one", tt(delta = 0.1, sd = 0.3, power = 0.8, alternative = "one.sided")$n)
p("n d=0.3 sd=1 a=0.05 pw=0.8 strict", tt(delta = 0.3, sd = 1, power = 0.8, strict = TRUE)$n)
p("power n=200 d=0.1 sd=0.3", tt(n = 200, delta = 0.1, sd = 0.3)$power)
p("power n=10 d=0.2 sd=1", tt(n = 10, delta = 0.2, sd = 1)$power)
p("power n=10 d=0.2 sd=1 strict", tt(n = 10, delta = 0.2, sd = 1, strict = TRUE)$power)
p("power n=30 d=0.4 sd=1.5 a=0.01 one", tt(n = 30, delta = 0.4, sd = 1.5, sig.level = 0.01, alternative = "one.sided")$power)
p("power n=5 d=1 sd=1", tt(n = 5, delta = 1, sd = 1)$power)
p("delta n=50 sd=1 pw=0.8", tt(n = 50, sd = 1, power = 0.8)$delta)
p("delta n=200 sd=0.3 pw=0.9 a=0.01", tt(n = 200, sd = 0.3, power = 0.9, sig.level = 0.01)$delta)
p("delta n=12 sd=2 pw=0.8 one", tt(n = 12, sd = 2, power = 0.8, alternative = "one.sided")$delta)
p("delta n=40 sd=1 pw=0.8 strict", tt(n = 40, sd = 1, power = 0.8, strict = TRUE)$delta)
# The normal approximation, n = ((z_{1-a/2} + z_power) sd / delta)^2 and
# delta = (z_{1-a/2} + z_power) sd / sqrt(n) (one-sided: z_{1-a}).
zn <- function(delta, sd, a, pw, sides = 2) ((qnorm(1 - a / sides) + qnorm(pw)) * sd / delta)^2
zd <- function(n, sd, a, pw, sides = 2) (qnorm(1 - a / sides) + qnorm(pw)) * sd / sqrt(n)
p("normal n d=0.1 sd=0.3 a=0.05 pw=0.8", zn(0.1, 0.3, 0.05, 0.8))
p("normal n d=0.1 sd=0.3 a=0.05 pw=0.8 one", zn(0.1, 0.3, 0.05, 0.8, 1))
p("normal delta n=50 sd=1 pw=0.8", zd(50, 1, 0.05, 0.8))
p("normal delta n=200 sd=0.3 pw=0.9 a=0.01", zd(200, 0.3, 0.01, 0.9))
p("normal power n=200 d=0.1 sd=0.3", pnorm(sqrt(200) * 0.1 / 0.3 - qnorm(0.975)))
# The MDE a comparison reports for a judge with scores, on the per-example
# differences of report/mde_test.go (80% power, alpha = 0.05).
d <- rep(c(0.1, 0.3, -0.1, 0.2, 0.0, 0.4, 0.1, 0.2), 5)
p("mde paired_t", tt(n = 40, sd = sd(d), power = 0.8, strict = TRUE)$delta)
p("mde normal", zd(40, sd(d), 0.05, 0.8))
