# Reference values for stats.PAdjust: R 4.2 p.adjust. Run: Rscript padjust.R > padjust.R.txt
cases <- list(
  mixed = c(0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.049),
  ties = c(0.02, 0.02, 0.01, 0.04, 0.04, 0.3),
  one = c(0.03),
  edges = c(0, 1, 0.5, 0, 0.025),
  nan = c(0.01, NA, 0.04, 0.03, NA),
  big = c(0.9, 0.8, 0.95, 0.99, 0.6)
)
for (nm in names(cases)) for (m in c("holm", "hochberg", "BH", "BY", "bonferroni", "none")) {
  q <- p.adjust(cases[[nm]], m)
  cat(nm, m, paste(ifelse(is.na(q), "NaN", sprintf("%.17g", q)), collapse = " "), "\n")
}
