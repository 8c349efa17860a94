#include "lib/storage/filter.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"
#include "lib/base/status_macros.h"

namespace kpi::storage {
namespace {

using domain::ResourceType;

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

enum class FieldType { kInt, kEnum, kName, kText };

struct EnumValue {
  std::string_view name;
  int64_t value;
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  ResourceType name_type = ResourceType::kStrategy;  // for kName
  std::vector<EnumValue> enum_values;                // for kEnum
  bool contains = false;  // kText: also `:` (the text contains the value)
};

const std::vector<EnumValue>& ObservationStatuses() {
  static const auto* const kValues =
      new std::vector<EnumValue>{{"OBSERVATION_STATUS_UNSPECIFIED", 0},
                                 {"OBSERVATION_STATUS_FINAL", 1},
                                 {"OBSERVATION_STATUS_PROVISIONAL", 2},
                                 {"OBSERVATION_STATUS_CARRIED_OVER", 3}};
  return *kValues;
}

const std::vector<EnumValue>& Ratings() {
  static const auto* const kValues =
      new std::vector<EnumValue>{{"RATING_UNSPECIFIED", 0},
                                 {"RATING_CONTINUE_AND_EXPAND", 1},
                                 {"RATING_CONTINUE", 2},
                                 {"RATING_REVISE", 3}};
  return *kValues;
}

const std::vector<FieldSpec>& FieldsOf(ResourceType collection) {
  static const auto* const kNone = new std::vector<FieldSpec>{};
  static const auto* const kMeasures = new std::vector<FieldSpec>{
      {"goal", FieldType::kName, ResourceType::kGoal, {}},
      {"parent", FieldType::kName, ResourceType::kMeasure, {}},
  };
  static const auto* const kKpis = new std::vector<FieldSpec>{
      {"goal", FieldType::kName, ResourceType::kGoal, {}},
      {"measure", FieldType::kName, ResourceType::kMeasure, {}},
      {"kind",
       FieldType::kEnum,
       ResourceType::kStrategy,
       {{"KPI_KIND_UNSPECIFIED", 0},
        {"KPI_KIND_LEVEL", 1},
        {"KPI_KIND_RUNNING_TOTAL", 2},
        {"KPI_KIND_PERIOD_SUM", 3}}},
      {"unit", FieldType::kText, ResourceType::kStrategy, {}},
      {"display_name", FieldType::kText, ResourceType::kStrategy, {}, true},
      // The status of the KPI's latest observation, and the rating of its
      // measure's latest evaluation (see ListRequest::filter).
      {"status", FieldType::kEnum, ResourceType::kStrategy,
       ObservationStatuses()},
      {"rating", FieldType::kEnum, ResourceType::kStrategy, Ratings()},
  };
  static const auto* const kObservations = new std::vector<FieldSpec>{
      {"status", FieldType::kEnum, ResourceType::kStrategy,
       ObservationStatuses()},
      {"fiscal_year", FieldType::kInt, ResourceType::kStrategy, {}},
  };
  static const auto* const kEvaluations = new std::vector<FieldSpec>{
      {"fiscal_year", FieldType::kInt, ResourceType::kStrategy, {}},
      {"rating", FieldType::kEnum, ResourceType::kStrategy, Ratings()},
  };
  switch (collection) {
    case ResourceType::kMeasure:
      return *kMeasures;
    case ResourceType::kKpi:
      return *kKpis;
    case ResourceType::kObservation:
      return *kObservations;
    case ResourceType::kEvaluation:
      return *kEvaluations;
    default:
      return *kNone;
  }
}

struct Token {
  enum Kind { kWord, kString, kOp, kEnd } kind;
  std::string text;
  size_t pos;
};

bool IsOpChar(char c) {
  return c == '=' || c == '!' || c == '<' || c == '>' || c == ':';
}

// INVALID_ARGUMENT with a violation of the request's "filter" field, which
// the gRPC edge turns into the google.rpc.BadRequest detail the contract
// promises.
absl::Status FilterError(std::string description) {
  return base::InvalidArgumentWithViolations(
      "invalid request:", {{"filter", std::move(description)}});
}

absl::Status SyntaxError(size_t pos, std::string_view what) {
  return FilterError(absl::StrFormat(
      "%s at position %d; accepted: conditions `field op value` "
      "joined by AND, op one of = != < <= > >= and : (contains), e.g. "
      "`fiscal_year >= 2020 AND status = OBSERVATION_STATUS_FINAL`",
      AsAbsl(what), pos));
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    const size_t start = i;
    if (c == '"' || c == '\'') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          text.push_back(s[i + 1]);
          i += 2;
        } else if (s[i] == c) {
          closed = true;
          ++i;
          break;
        } else {
          text.push_back(s[i++]);
        }
      }
      if (!closed) return SyntaxError(start, "unterminated string");
      out.push_back({Token::kString, std::move(text), start});
    } else if (IsOpChar(c)) {
      while (i < s.size() && IsOpChar(s[i])) ++i;
      out.push_back(
          {Token::kOp, std::string(s.substr(start, i - start)), start});
    } else if (c == '(' || c == ')') {
      return SyntaxError(start, "parentheses are not supported");
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) &&
             !IsOpChar(s[i]) && s[i] != '"' && s[i] != '\'' && s[i] != '(' &&
             s[i] != ')') {
        ++i;
      }
      out.push_back(
          {Token::kWord, std::string(s.substr(start, i - start)), start});
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

// The filter syntax's spelling of an operator.
std::string_view FilterOpText(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "=";
    case FilterOp::kNe:
      return "!=";
    case FilterOp::kLt:
      return "<";
    case FilterOp::kLe:
      return "<=";
    case FilterOp::kGt:
      return ">";
    case FilterOp::kGe:
      return ">=";
    case FilterOp::kHas:
      return ":";
  }
  return "=";
}

absl::StatusOr<FilterOp> ParseOp(const Token& t) {
  if (t.kind == Token::kOp) {
    for (FilterOp op :
         {FilterOp::kEq, FilterOp::kNe, FilterOp::kLt, FilterOp::kLe,
          FilterOp::kGt, FilterOp::kGe, FilterOp::kHas}) {
      if (t.text == FilterOpText(op)) return op;
    }
  }
  return SyntaxError(t.pos, t.kind == Token::kEnd
                                ? std::string("missing operator")
                                : absl::StrCat(base::QuoteInput(t.text),
                                               " is not an operator"));
}

std::string FieldNames(const std::vector<FieldSpec>& fields) {
  std::vector<absl::string_view> names;
  for (const FieldSpec& f : fields) names.push_back(AsAbsl(f.name));
  return absl::StrJoin(names, ", ");
}

// `strategy` ("strategies/s", or "" when the List's parent names none)
// resolves the short forms of names.
absl::StatusOr<FilterCondition> MakeCondition(const FieldSpec& field,
                                              FilterOp op, const Token& value,
                                              std::string_view strategy) {
  FilterCondition cond{std::string(field.name), op, int64_t{0}};
  const bool equality = op == FilterOp::kEq || op == FilterOp::kNe;
  if (value.kind != Token::kWord && value.kind != Token::kString) {
    return SyntaxError(value.pos,
                       absl::StrCat("missing value for ", AsAbsl(field.name)));
  }
  if (op == FilterOp::kHas && !field.contains) {
    return FilterError(absl::StrFormat(
        "%s at position %d does not support : (contains); accepted: %s",
        AsAbsl(field.name), value.pos,
        field.type == FieldType::kInt ? "= != < <= > >=" : "= and !="));
  }
  switch (field.type) {
    case FieldType::kText:
      if (op != FilterOp::kEq && op != FilterOp::kNe && op != FilterOp::kHas) {
        return FilterError(absl::StrFormat(
            "%s at position %d only supports %s", AsAbsl(field.name), value.pos,
            field.contains ? "=, != and : (contains)" : "= and !="));
      }
      if (op == FilterOp::kHas && value.text.empty()) {
        return FilterError(absl::StrFormat(
            "%s : at position %d needs a non-empty text to look for",
            AsAbsl(field.name), value.pos));
      }
      cond.value = value.text;
      return cond;
    case FieldType::kInt: {
      int64_t v;
      if (!absl::SimpleAtoi(value.text, &v)) {
        return FilterError(absl::StrFormat(
            "%s: %s at position %d is not an integer; accepted: "
            "a fiscal year such as 2021",
            AsAbsl(field.name), base::QuoteInput(value.text), value.pos));
      }
      cond.value = v;
      return cond;
    }
    case FieldType::kEnum: {
      std::vector<absl::string_view> names;
      bool found = false;
      for (const EnumValue& e : field.enum_values) {
        names.push_back(AsAbsl(e.name));
        if (e.name == value.text) {
          cond.value = e.value;
          found = true;
        }
      }
      if (!found) {
        return FilterError(absl::StrFormat(
            "%s: %s at position %d is not a value of %s; "
            "accepted: %s",
            AsAbsl(field.name), base::QuoteInput(value.text), value.pos,
            AsAbsl(field.name), absl::StrJoin(names, ", ")));
      }
      break;
    }
    case FieldType::kName: {
      // A bare ID is the short form of a name under the List's strategy.
      if (domain::IsValidId(value.text)) {
        if (strategy.empty()) {
          return FilterError(absl::StrFormat(
              "%s: %s at position %d is an ID, but the parent names no "
              "strategy to find it in; accepted: a full name, %s",
              AsAbsl(field.name), base::QuoteInput(value.text), value.pos,
              AsAbsl(domain::NamePattern(field.name_type))));
        }
        cond.value = domain::MakeName(strategy, field.name_type, value.text);
        break;
      }
      absl::Status parsed =
          domain::ParseName(value.text, field.name_type, field.name).status();
      if (!parsed.ok()) {
        return FilterError(absl::StrCat(
            parsed.message(), ", or the ID alone (", AsAbsl(field.name), " = ",
            field.name_type == ResourceType::kGoal ? "g1" : "m1", ")"));
      }
      cond.value = value.text;
      break;
    }
  }
  if (!equality) {
    return FilterError(absl::StrFormat(
        "%s at position %d only supports = and !=", AsAbsl(field.name),
        value.pos));
  }
  return cond;
}

}  // namespace

std::string_view FilterOpSql(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "=";
    case FilterOp::kNe:
      return "<>";
    case FilterOp::kLt:
      return "<";
    case FilterOp::kLe:
      return "<=";
    case FilterOp::kGt:
      return ">";
    case FilterOp::kGe:
      return ">=";
    case FilterOp::kHas:
      return "";
  }
  return "=";
}

absl::StatusOr<std::vector<FilterCondition>> ParseFilter(
    domain::ResourceType collection, std::string_view filter,
    std::string_view parent) {
  std::vector<FilterCondition> out;
  KPI_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(filter));
  if (tokens.front().kind == Token::kEnd) return out;
  const std::vector<FieldSpec>& fields = FieldsOf(collection);
  const std::string_view collection_id = domain::CollectionId(collection);
  if (fields.empty()) {
    return FilterError(
        absl::StrFormat("%s cannot be filtered; accepted: an empty filter",
                        AsAbsl(collection_id)));
  }
  // "strategies/s" of the parent, when it names one.
  std::string strategy;
  if (const std::vector<absl::string_view> segments =
          absl::StrSplit(AsAbsl(parent), '/');
      segments.size() >= 2 && segments[0] == "strategies" &&
      domain::IsValidId(
          std::string_view(segments[1].data(), segments[1].size()))) {
    strategy = absl::StrCat("strategies/", segments[1]);
  }
  size_t i = 0;
  while (true) {
    const Token& name = tokens[i];
    if (name.kind != Token::kWord) {
      return SyntaxError(name.pos,
                         name.kind == Token::kEnd
                             ? std::string("missing condition")
                             : absl::StrCat("expected a field name, "
                                            "got ",
                                            base::QuoteInput(name.text)));
    }
    const FieldSpec* field = nullptr;
    for (const FieldSpec& f : fields) {
      if (f.name == name.text) field = &f;
    }
    if (field == nullptr) {
      return FilterError(absl::StrFormat(
          "unknown field %s at position %d; accepted fields for "
          "%s: %s",
          base::QuoteInput(name.text), name.pos, AsAbsl(collection_id),
          FieldNames(fields)));
    }
    KPI_ASSIGN_OR_RETURN(FilterOp op, ParseOp(tokens[i + 1]));
    KPI_ASSIGN_OR_RETURN(FilterCondition cond,
                         MakeCondition(*field, op, tokens[i + 2], strategy));
    out.push_back(std::move(cond));
    i += 3;
    if (tokens[i].kind == Token::kEnd) break;
    if (tokens[i].kind != Token::kWord || tokens[i].text != "AND") {
      return SyntaxError(
          tokens[i].pos,
          absl::StrCat("expected AND, got ", base::QuoteInput(tokens[i].text),
                       " (OR and NOT are not supported)"));
    }
    ++i;
  }
  if (out.size() > kMaxFilterConditions) {
    return FilterError(absl::StrFormat(
        "%d conditions; accepted: at most %d conditions joined by AND",
        out.size(), kMaxFilterConditions));
  }
  return out;
}

std::string FormatFilter(domain::ResourceType collection,
                         const std::vector<FilterCondition>& conditions) {
  std::vector<std::string> parts;
  for (const FilterCondition& cond : conditions) {
    std::string value;
    if (const auto* text = std::get_if<std::string>(&cond.value)) {
      value = "\"";
      for (char c : *text) {
        if (c == '"' || c == '\\') value.push_back('\\');
        value.push_back(c);
      }
      value.push_back('"');
    } else {
      const int64_t number = std::get<int64_t>(cond.value);
      value = absl::StrCat(number);
      for (const FieldSpec& f : FieldsOf(collection)) {
        if (f.name != cond.field) continue;
        for (const EnumValue& e : f.enum_values) {
          if (e.value == number) value = std::string(e.name);
        }
      }
    }
    parts.push_back(absl::StrCat(cond.field, " ", AsAbsl(FilterOpText(cond.op)),
                                 " ", value));
  }
  return absl::StrJoin(parts, " AND ");
}

}  // namespace kpi::storage
