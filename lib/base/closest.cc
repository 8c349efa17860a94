#include "lib/base/closest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "lib/base/utf8.h"

namespace kpi::base {
namespace {

// Code points of `s`, ASCII lowered.
std::u32string CodePoints(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = NextCodePoint(s, &i);
    out.push_back(c < 0x80 ? absl::ascii_tolower(static_cast<char>(c)) : c);
  }
  return out;
}

int Distance(const std::u32string& a, const std::u32string& b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

int EditDistance(std::string_view a, std::string_view b) {
  return Distance(CodePoints(a), CodePoints(b));
}

std::vector<std::string> ClosestLabels(std::string_view query,
                                       const std::vector<Candidate>& candidates,
                                       size_t limit) {
  const std::u32string q = CodePoints(query);
  if (q.empty()) return {};
  std::vector<std::pair<int, size_t>> scored;  // distance, index
  for (size_t i = 0; i < candidates.size(); ++i) {
    int best = -1;
    for (const std::string& key : candidates[i].keys) {
      const std::u32string k = CodePoints(key);
      if (k.empty()) continue;
      int d = Distance(q, k);
      const int longer = static_cast<int>(std::max(q.size(), k.size()));
      const bool plausible = d <= std::max(2, longer / 3);
      // A fragment of a name (at least two characters) is as good as a
      // near miss of the same length.
      const bool fragment =
          q.size() >= 2 && (k.find(q) != std::u32string::npos ||
                            q.find(k) != std::u32string::npos);
      if (fragment) d = static_cast<int>(longer - std::min(q.size(), k.size()));
      if (!plausible && !fragment) continue;
      if (best < 0 || d < best) best = d;
    }
    if (best >= 0) scored.emplace_back(best, i);
  }
  std::stable_sort(
      scored.begin(), scored.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && out.size() < limit; ++i) {
    out.push_back(candidates[scored[i].second].label);
  }
  return out;
}

}  // namespace kpi::base
