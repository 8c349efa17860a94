# Prints how many windows per second forecast::thetaf forecasts: the last k
# training points of every series, h = the test length, for every k given.
# Usage: Rscript thetaf_speed.R m3_yearly.csv 2,3,5,7
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
ks <- as.integer(strsplit(args[2], ",")[[1]])
train <- d[d$split == "train", ]
train <- train[order(train$series_id, train$t), ]
h <- table(d$series_id[d$split == "test"])
series <- split(train$value, train$series_id)
n <- 0
elapsed <- system.time(for (id in names(series)) {
  x <- series[[id]]
  for (k in ks) {
    w <- ts(tail(x, k))
    invisible(suppressWarnings(tryCatch(thetaf(w, h = h[[id]]),
                                        error = function(e) NULL)))
    n <- n + 1
  }
})[["elapsed"]]
cat(n / elapsed, "\n")
