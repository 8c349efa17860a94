#include "services/kpictl/kpi_lookup.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/closest.h"
#include "lib/base/utf8.h"

namespace kpi::kpictl {
namespace {

// The form names are compared in: full-width ASCII folded, spaces dropped,
// ASCII lowered, as code points.
std::u32string Folded(absl::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    char32_t c = base::NextCodePoint(std::string_view(s.data(), s.size()), &i);
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;
    if (c == ' ' || c == 0x3000 || c == '\t') continue;
    if (c < 0x80) c = absl::ascii_tolower(static_cast<char>(c));
    out.push_back(c);
  }
  return out;
}

std::string Id(const kpi::v1::Kpi& kpi) {
  return kpi.name().substr(kpi.name().rfind('/') + 1);
}

std::string Shown(const kpi::v1::Kpi& kpi) {
  return absl::StrCat(Id(kpi), " (", kpi.display_name(), ")");
}

// One token of a measure code: a number (digits, full-width digits or a
// circled number ①..⑳) or a single other character.
using CodeKey = std::vector<std::pair<int, int64_t>>;

CodeKey KeyOfCode(absl::string_view code) {
  CodeKey key;
  int64_t number = -1;
  const auto flush = [&] {
    if (number >= 0) key.emplace_back(0, number);
    number = -1;
  };
  for (size_t i = 0; i < code.size();) {
    char32_t c =
        base::NextCodePoint(std::string_view(code.data(), code.size()), &i);
    if (c >= 0xFF10 && c <= 0xFF19) c = c - 0xFF10 + '0';
    if (c >= '0' && c <= '9') {
      number = std::max<int64_t>(number, 0) * 10 + (c - '0');
      if (number > (int64_t{1} << 40)) number = int64_t{1} << 40;
      continue;
    }
    flush();
    if (c >= 0x2460 && c <= 0x2473) {  // ① .. ⑳
      key.emplace_back(0, static_cast<int64_t>(c - 0x2460 + 1));
    } else if (c == ' ' || c == 0x3000 || c == '(' || c == ')' || c == 0xFF08 ||
               c == 0xFF09) {
      continue;  // (1) and 1 sort together
    } else {
      key.emplace_back(1, static_cast<int64_t>(c));
    }
  }
  flush();
  return key;
}

}  // namespace

absl::StatusOr<std::string> MatchKpi(const std::vector<kpi::v1::Kpi>& kpis,
                                     absl::string_view typed,
                                     absl::string_view parent) {
  const std::u32string want = Folded(typed);
  if (want.empty()) {
    return absl::InvalidArgumentError(
        "the KPI is empty; accepted: a KPI ID, its name or the start of it, "
        "or a full name strategies/{strategy}/kpis/{kpi}");
  }
  std::vector<const kpi::v1::Kpi*> prefixed;
  for (const kpi::v1::Kpi& kpi : kpis) {
    for (const std::string& key :
         {Id(kpi), kpi.display_name(), kpi.english_name()}) {
      const std::u32string k = Folded(key);
      if (k.empty()) continue;
      if (k == want) return kpi.name();
      if (k.compare(0, want.size(), want) == 0) {
        if (prefixed.empty() || prefixed.back() != &kpi) {
          prefixed.push_back(&kpi);
        }
      }
    }
  }
  if (prefixed.size() == 1) return prefixed.front()->name();
  if (prefixed.size() > 1) {
    std::vector<std::string> shown;
    for (const kpi::v1::Kpi* kpi : prefixed) shown.push_back(Shown(*kpi));
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", typed, "\" starts the ID or name of ", prefixed.size(),
        " KPIs of ", parent, ": ", absl::StrJoin(shown, ", "),
        "; type more of the name, or the ID"));
  }
  std::vector<base::Candidate> candidates;
  for (const kpi::v1::Kpi& kpi : kpis) {
    candidates.push_back(
        {Shown(kpi), {Id(kpi), kpi.display_name(), kpi.english_name()}});
  }
  const std::vector<std::string> closest = base::ClosestLabels(
      std::string_view(typed.data(), typed.size()), candidates);
  return absl::NotFoundError(absl::StrCat(
      "no KPI of ", parent, " has the ID or name \"", typed, "\"",
      closest.empty()
          ? "; kpictl list shows them"
          : absl::StrCat("; closest: ", absl::StrJoin(closest, ", "))));
}

void SortInStrategyOrder(const std::vector<kpi::v1::Goal>& goals,
                         const std::vector<kpi::v1::Measure>& measures,
                         std::vector<kpi::v1::Kpi>* kpis) {
  constexpr int64_t kLast = std::numeric_limits<int64_t>::max();
  std::map<std::string, int64_t> goal_number;
  for (const kpi::v1::Goal& g : goals) goal_number[g.name()] = g.number();
  std::map<std::string, const kpi::v1::Measure*> by_name;
  for (const kpi::v1::Measure& m : measures) by_name[m.name()] = &m;
  // A measure's key: its goal's number, then the codes from its top-level
  // heading down to it.
  using MeasureKey = std::tuple<int64_t, std::vector<CodeKey>, std::string>;
  const auto measure_key = [&](const std::string& name) -> MeasureKey {
    auto it = by_name.find(name);
    if (it == by_name.end()) return {kLast, {}, name};
    const kpi::v1::Measure& m = *it->second;
    auto goal = goal_number.find(m.goal());
    std::vector<CodeKey> codes = {KeyOfCode(m.code())};
    const kpi::v1::Measure* up = &m;
    for (int depth = 0; depth < 8 && !up->parent().empty(); ++depth) {
      auto parent = by_name.find(up->parent());
      if (parent == by_name.end()) break;
      up = parent->second;
      codes.insert(codes.begin(), KeyOfCode(up->code()));
    }
    return {goal == goal_number.end() ? kLast : goal->second, codes, name};
  };
  std::map<std::string, MeasureKey> keys;
  for (const kpi::v1::Kpi& kpi : *kpis) {
    if (!keys.count(kpi.measure())) {
      keys.emplace(kpi.measure(), measure_key(kpi.measure()));
    }
  }
  std::stable_sort(kpis->begin(), kpis->end(),
                   [&](const kpi::v1::Kpi& a, const kpi::v1::Kpi& b) {
                     return std::forward_as_tuple(keys.at(a.measure()),
                                                  a.ordinal(), a.name()) <
                            std::forward_as_tuple(keys.at(b.measure()),
                                                  b.ordinal(), b.name());
                   });
}

}  // namespace kpi::kpictl
