#ifndef KPI_TESTS_REPORT_SVG_READER_H_
#define KPI_TESTS_REPORT_SVG_READER_H_

// Reads back what the fan chart wrote: its elements with their attributes
// (a tag scanner, enough for the markup RenderFanChart emits), the linear
// map of the root element, and "FY:V FY:V" vertex lists.

#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace kpi::report::testing {

struct Element {
  std::string tag;
  std::map<std::string, std::string> attributes;
  bool HasClass(const std::string& c) const {
    auto it = attributes.find("class");
    if (it == attributes.end()) return false;
    const std::string padded = " " + it->second + " ";
    return padded.find(" " + c + " ") != std::string::npos;
  }
  const std::string& at(const std::string& name) const {
    static const std::string kEmpty;
    auto it = attributes.find(name);
    return it == attributes.end() ? kEmpty : it->second;
  }
  double Number(const std::string& name) const {
    return std::strtod(at(name).c_str(), nullptr);
  }
};

inline std::vector<Element> Elements(const std::string& markup) {
  std::vector<Element> out;
  static const std::regex kTag(
      R"(<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>/]+="[^"]*")*)\s*/?>)");
  static const std::regex kAttribute(R"(([^\s=]+)="([^"]*)\")");
  for (auto it = std::sregex_iterator(markup.begin(), markup.end(), kTag);
       it != std::sregex_iterator(); ++it) {
    Element e;
    e.tag = (*it)[1];
    const std::string attributes = (*it)[2];
    for (auto a = std::sregex_iterator(attributes.begin(), attributes.end(),
                                       kAttribute);
         a != std::sregex_iterator(); ++a) {
      e.attributes[(*a)[1]] = (*a)[2];
    }
    out.push_back(std::move(e));
  }
  return out;
}

inline std::vector<Element> WithClass(const std::vector<Element>& elements,
                                      const std::string& c) {
  std::vector<Element> out;
  for (const Element& e : elements) {
    if (e.HasClass(c)) out.push_back(e);
  }
  return out;
}

struct ChartMap {
  int fy0 = 0;
  double x0 = 0, px_per_year = 0, v0 = 0, y0 = 0, px_per_unit = 0;
  double X(double fy) const { return x0 + (fy - fy0) * px_per_year; }
  double Y(double v) const { return y0 - (v - v0) * px_per_unit; }
};

inline ChartMap MapOf(const Element& svg) {
  ChartMap m;
  m.fy0 = static_cast<int>(svg.Number("data-fy0"));
  m.x0 = svg.Number("data-x0");
  m.px_per_year = svg.Number("data-px-per-year");
  m.v0 = svg.Number("data-v0");
  m.y0 = svg.Number("data-y0");
  m.px_per_unit = svg.Number("data-px-per-unit");
  return m;
}

// "2021:45.9 2022:50.1" -> {(2021, 45.9), (2022, 50.1)}.
inline std::vector<std::pair<int, double>> Vertices(const std::string& list) {
  std::vector<std::pair<int, double>> out;
  static const std::regex kVertex(R"((\d+):(\S+))");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), kVertex);
       it != std::sregex_iterator(); ++it) {
    out.push_back({std::stoi((*it)[1]),
                   std::strtod(std::string((*it)[2]).c_str(), nullptr)});
  }
  return out;
}

// The numbers of a points="x,y x,y" or d="Mx,y Lx,y Z" attribute, as pairs.
inline std::vector<std::pair<double, double>> Coordinates(
    const std::string& s) {
  std::vector<std::pair<double, double>> out;
  static const std::regex kPair(R"((-?[0-9.]+),(-?[0-9.]+))");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kPair);
       it != std::sregex_iterator(); ++it) {
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
  }
  return out;
}

}  // namespace kpi::report::testing

#endif  // KPI_TESTS_REPORT_SVG_READER_H_
