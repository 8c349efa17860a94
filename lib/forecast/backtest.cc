#include "lib/forecast/backtest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kpi::forecast {
namespace {

// The four targets of BENCHMARK.md, relative to the last training value.
constexpr double kRatios[] = {0.90, 1.00, 1.10, 1.25};

absl::string_view Unquote(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

}  // namespace

absl::StatusOr<std::vector<YearlySeries>> ReadYearlySeriesCsv(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int line_no = 0;
  std::vector<YearlySeries> out;
  std::map<std::string, size_t> index;
  // Per series: t -> (year, value) of the training rows.
  std::vector<std::map<int, std::pair<int, double>>> train;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    if (line_no == 1) {
      if (f.size() != 5 || Unquote(f[0]) != "series_id") {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ":1: expected the header series_id,split,t,year,value"));
      }
      continue;
    }
    auto bad = [&](const char* column, const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ":", column, ": ", what));
    };
    if (f.size() != 5) return bad("row", "expected 5 columns");
    const std::string id(Unquote(f[0]));
    const absl::string_view split = Unquote(f[1]);
    int t = 0, year = 0;
    double value = 0;
    if (!absl::SimpleAtoi(Unquote(f[2]), &t) || t < 1) {
      return bad("t", "expected an integer >= 1");
    }
    if (!absl::SimpleAtoi(Unquote(f[3]), &year)) {
      return bad("year", "expected an integer year");
    }
    if (!absl::SimpleAtod(Unquote(f[4]), &value) || !std::isfinite(value)) {
      return bad("value", "expected a finite number");
    }
    auto [it, inserted] = index.emplace(id, out.size());
    if (inserted) {
      out.push_back(YearlySeries{id, {}, {}, 0});
      train.emplace_back();
    }
    if (split == "train") {
      if (!train[it->second].emplace(t, std::make_pair(year, value)).second) {
        return bad("t", absl::StrCat("duplicate t ", t, " for ", id));
      }
    } else if (split == "test") {
      ++out[it->second].test_points;
    } else {
      return bad("split", "expected train or test");
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& [t, yv] : train[i]) {
      out[i].train_years.push_back(yv.first);
      out[i].train_values.push_back(yv.second);
    }
  }
  return out;
}

absl::StatusOr<BacktestSummary> RunBacktest(const BacktestOptions& options) {
  if (options.windows.empty()) {
    return absl::InvalidArgumentError("windows: at least one window length");
  }
  for (int k : options.windows) {
    if (k < 1 || k > 200) {
      return absl::InvalidArgumentError(
          absl::StrCat("windows: ", k, " is not a length from 1 to 200"));
    }
  }
  if (options.default_horizon < 1 || options.default_horizon > 30) {
    return absl::InvalidArgumentError("default_horizon: from 1 to 30");
  }
  absl::StatusOr<std::vector<YearlySeries>> data =
      ReadYearlySeriesCsv(options.data_path);
  if (!data.ok()) return data.status();
  const Engine& engine =
      options.engine != nullptr ? *options.engine : DefaultEngine();

  std::ostringstream out;
  out << "series_id,k,h,q025,q10,q50,q90,q975,p090,p100,p110,p125\n";
  BacktestSummary summary;
  double seconds = 0;
  for (size_t s = 0; s < data->size(); ++s) {
    const YearlySeries& ys = (*data)[s];
    const int n = static_cast<int>(ys.train_values.size());
    if (n == 0) continue;
    const int horizon =
        ys.test_points > 0 ? ys.test_points : options.default_horizon;
    for (int k : options.windows) {
      const int use = std::min(k, n);
      SeriesInput in;
      in.id = ys.id;
      in.value_domain = domain::ValueDomain::kNonNegative;
      for (int i = n - use; i < n; ++i) {
        if (ys.train_values[i] < 0)
          in.value_domain = domain::ValueDomain::kReal;
        Point p;
        p.fiscal_year = ys.train_years[i];
        p.value = ys.train_values[i];
        in.points.push_back(p);
      }
      const double last = ys.train_values[n - 1];
      for (double r : kRatios) in.probability_thresholds.push_back(r * last);
      in.target_fiscal_year = ys.train_years[n - 1] + horizon;
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<Projection> p = engine.Project(in);
      seconds += std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      if (!p.ok()) {
        return absl::Status(p.status().code(),
                            absl::StrCat("series ", ys.id, ", k ", k, ": ",
                                         p.status().message()));
      }
      ++summary.projections;
      for (int h = 1; h <= horizon && h <= static_cast<int>(p->years.size());
           ++h) {
        const YearProjection& y = p->years[h - 1];
        out << absl::StrFormat("%s,%d,%d,%.10g,%.10g,%.10g,%.10g,%.10g", ys.id,
                               k, h, y.interval_95.lower, y.interval_80.lower,
                               y.median, y.interval_80.upper,
                               y.interval_95.upper);
        for (double prob : y.threshold_probabilities) {
          out << absl::StrFormat(",%.6g", prob);
        }
        out << "\n";
      }
    }
    ++summary.series;
    if (options.progress) {
      options.progress(static_cast<int>(s + 1), static_cast<int>(data->size()));
    }
  }
  summary.seconds = seconds;
  std::ofstream file(options.out_path, std::ios::binary | std::ios::trunc);
  if (!file) {
    return absl::InternalError(
        absl::StrCat("out: cannot write ", options.out_path));
  }
  file << out.str();
  file.close();
  if (!file) {
    return absl::InternalError(
        absl::StrCat("out: error writing ", options.out_path));
  }
  return summary;
}

}  // namespace kpi::forecast
