// Learns the shipped forecast calibration (lib/forecast/calibration/*.txt)
// on its own from the TRAINING parts of a file in the m3_yearly.csv format
// (test rows are never read): lib/forecast/learn.h does the work, the same
// code `kpictl calibrate` and the server run. Progress goes to stderr.
//
// Usage: kpi_calibrate --data m3_yearly.csv --out m3-train-v3.txt
//                      [--version m3-train-v3]

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "lib/forecast/engine.h"
#include "lib/forecast/learn.h"
#include "lib/forecast/model.h"
#include "lib/forecast/training_data.h"

ABSL_FLAG(std::string, data, "", "series in the m3_yearly.csv format");
ABSL_FLAG(std::string, out, "", "calibration file to write");
ABSL_FLAG(std::string, version, "m3-train-v3", "version label");
ABSL_FLAG(int, max_k, 10, "largest window length learned");
ABSL_FLAG(int, max_h, 10, "largest horizon learned");
ABSL_FLAG(std::string, bucket_levels, "",
          "levels per bucket feature (volatility, trend, disagreement), e.g. "
          "5,5,1; 1,1,1 = pooled error quantiles only; empty = chosen by "
          "cross-validation");
ABSL_FLAG(double, max_bias_share, 0.5,
          "the largest share of a predicted change that a bucket's bias may "
          "take back (a product rule, not learned: see ModelParams)");
ABSL_FLAG(std::string, prior, "",
          "shrink toward this calibration (a file, or builtin) as kpictl "
          "calibrate does; empty = learn on its own (the shipped file)");
ABSL_FLAG(std::string, fixed_params, "",
          "sigma_pool,n0,kappa0,scale_power: skip the prior grid search");

namespace kpi::forecast {
namespace {

bool ParseNumbers(const std::string& text, size_t count,
                  std::vector<double>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    double x;
    if (!absl::SimpleAtod(part, &x)) return false;
    out->push_back(x);
  }
  return out->size() == count;
}

int Main() {
  const std::string data_path = absl::GetFlag(FLAGS_data);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  if (data_path.empty() || out_path.empty()) {
    std::cerr << "usage: kpi_calibrate --data DATA.csv --out FILE.txt "
                 "[--version V] [--max_k 1..10] [--max_h N]\n";
    return 2;
  }
  std::ifstream in(data_path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "cannot read " << data_path << "\n";
    return 1;
  }
  const std::string label = data_path.substr(data_path.find_last_of('/') + 1);
  absl::StatusOr<TrainingData> data = ParseTrainingCsv(text.str(), label);
  if (!data.ok()) {
    std::cerr << data.status() << "\n";
    return 1;
  }
  LearnOptions options;
  options.version = absl::GetFlag(FLAGS_version);
  options.source_label = label;
  options.max_k = absl::GetFlag(FLAGS_max_k);
  options.max_h = absl::GetFlag(FLAGS_max_h);
  options.max_bias_share = absl::GetFlag(FLAGS_max_bias_share);
  options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  if (!absl::GetFlag(FLAGS_fixed_params).empty()) {
    std::vector<double> v;
    if (!ParseNumbers(absl::GetFlag(FLAGS_fixed_params), 4, &v)) {
      std::cerr << "--fixed_params: expected sigma_pool,n0,kappa0,power\n";
      return 2;
    }
    options.fixed_params = ModelParams{v[0], v[1], v[2], v[3]};
  }
  if (!absl::GetFlag(FLAGS_bucket_levels).empty()) {
    std::vector<double> v;
    if (!ParseNumbers(absl::GetFlag(FLAGS_bucket_levels), kNumBucketFeatures,
                      &v)) {
      std::cerr << "--bucket_levels: expected " << kNumBucketFeatures
                << " levels from 1 to 10\n";
      return 2;
    }
    std::array<int, kNumBucketFeatures> levels;
    for (int j = 0; j < kNumBucketFeatures; ++j) {
      levels[j] = static_cast<int>(v[j]);
      if (levels[j] < 1 || levels[j] > 10 || levels[j] != v[j]) {
        std::cerr << "--bucket_levels: levels from 1 to 10\n";
        return 2;
      }
    }
    options.bucket_levels = levels;
  }
  std::unique_ptr<Engine> prior_engine;
  if (absl::GetFlag(FLAGS_prior) == "builtin") {
    options.prior = &DefaultEngine().calibration();
  } else if (!absl::GetFlag(FLAGS_prior).empty()) {
    std::ifstream f(absl::GetFlag(FLAGS_prior), std::ios::binary);
    std::stringstream prior_text;
    prior_text << f.rdbuf();
    absl::StatusOr<std::unique_ptr<Engine>> e =
        Engine::Create(prior_text.str());
    if (!f || !e.ok()) {
      std::cerr << "--prior: cannot read " << absl::GetFlag(FLAGS_prior)
                << (e.ok() ? "" : ": " + e.status().ToString()) << "\n";
      return 1;
    }
    prior_engine = *std::move(e);
    options.prior = &prior_engine->calibration();
  }
  absl::StatusOr<LearnedCalibration> learned =
      LearnCalibration(data->series, options);
  if (!learned.ok()) {
    std::cerr << learned.status() << "\n";
    return 1;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << "# Regenerate: bench/forecast/calibrate.sh BUILD_DIR\n"
      << learned->text;
  out.close();
  if (!out) {
    std::cerr << "cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kpi::forecast

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return kpi::forecast::Main();
}
