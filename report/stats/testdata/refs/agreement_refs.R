# R 4.2 cross-check of the rank-correlation p-values (exact=FALSE: the
# t approximation for Spearman, the normal approximation for Kendall).
a <- c(1, 2, 2, 3, 4, 5, 5, 3, 2, 1, 4, 4, 3, 5, 1)
b <- c(1, 3, 2, 3, 5, 5, 4, 2, 2, 2, 4, 3, 3, 5, 1)
c <- c(2, 2, 1, 3, 3, 5, 3, 2, 1, 1, 5, 4, 4, 4, 2)
for (y in list(b, c)) {
  s <- cor.test(a, y, method = "spearman", exact = FALSE)
  k <- cor.test(a, y, method = "kendall", exact = FALSE)
  cat(sprintf("spearman %.15g %.15g\nkendall %.15g %.15g\n", s$estimate, s$p.value, k$estimate, k$p.value))
}
