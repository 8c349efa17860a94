#ifndef KPI_LIB_BASE_CLOSEST_H_
#define KPI_LIB_BASE_CLOSEST_H_

// "Did you mean": the names closest to what a person typed, by edit
// distance over Unicode code points, so that a typo in an ID
// (airport-pasengers) or in a Japanese name (空港乗客数) finds the resource
// meant. Pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kpi::base {

// Levenshtein distance between two UTF-8 strings, counted in code points
// (a kanji is one edit, not three). Invalid bytes count as one code point
// each.
int EditDistance(std::string_view a, std::string_view b);

// A candidate: what is shown (a resource name) and the keys a person may
// have meant (its ID, its display name).
struct Candidate {
  std::string label;
  std::vector<std::string> keys;
};

// The labels of at most `limit` candidates whose closest key is within a
// plausible distance of `query`, nearest first (ties in input order). A key
// is plausible when the distance is at most max(2, length/3) of the longer
// of query and key in code points, or when one contains the other (a
// fragment of a long Japanese name). Case is ignored for ASCII.
std::vector<std::string> ClosestLabels(std::string_view query,
                                       const std::vector<Candidate>& candidates,
                                       size_t limit = 3);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_CLOSEST_H_
