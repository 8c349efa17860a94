#include "lib/i18n/explanation.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kpi::i18n {
namespace {

using forecast::Discordance;
using forecast::ProgressStatus;
using forecast::Projection;
using forecast::ScenarioRule;
using forecast::ShockTreatment;

std::string Year(int fiscal_year, Language language) {
  return FiscalYearInText(fiscal_year, language);
}

std::string Span(int first, int last, Language language) {
  if (first == last) return Year(first, language);
  return Format(MessageId::kFiscalYearSpan, language, Year(first, language),
                Year(last, language));
}

// Shock years as a reader writes them: consecutive years as a span.
std::string Years(const std::vector<int32_t>& years, Language language) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < years.size();) {
    size_t j = i;
    while (j + 1 < years.size() && years[j + 1] == years[j] + 1) ++j;
    parts.push_back(Span(years[i], years[j], language));
    i = j + 1;
  }
  return absl::StrJoin(parts, language == Language::kJa ? "、" : ", ");
}

std::string Value(const Projection& p, double value) {
  return FormatValueWithUnit(value, p.unit);
}

std::string Percent(double share) {
  return absl::StrCat(FormatNumber(std::round(share * 100)), "%");
}

bool Good(ProgressStatus s) {
  return s == ProgressStatus::kAchieved || s == ProgressStatus::kOnTrack;
}

// What one shock scenario gives at the target year: its probability, or
// its median without a target.
std::string Outcome(const Projection& p, const forecast::ScenarioOutcome& o,
                    Language language) {
  if (p.target_value.has_value()) {
    return Format(MessageId::kExplainOutcomeProbability, language,
                  FormatProbability(o.attainment_probability));
  }
  return Format(MessageId::kExplainOutcomeMedian, language,
                Value(p, o.projected_value));
}

const forecast::YearProjection* TargetYear(const Projection& p) {
  if (p.years.empty() || p.years.back().fiscal_year != p.target_fiscal_year) {
    return nullptr;
  }
  return &p.years.back();
}

bool HasScenarios(const Projection& p) {
  return p.explanation.scenario.outcomes.size() == 2;
}

std::string ScenarioSentence(const Projection& p, Language language) {
  const forecast::ScenarioExplanation& sc = p.explanation.scenario;
  const std::string years = Years(sc.shock_fiscal_years, language);
  const std::string recovery = Outcome(p, sc.outcomes[0], language);
  const std::string as_data = Outcome(p, sc.outcomes[1], language);
  if (p.shock_treatment == ShockTreatment::kBlend) {
    const MessageId id = sc.rule == ScenarioRule::kBlendFewPoints
                             ? MessageId::kExplainScenarioBlendFewPoints
                         : sc.rule == ScenarioRule::kBlendFavourable
                             ? MessageId::kExplainScenarioBlendFavourable
                             : MessageId::kExplainScenarioBlendRequested;
    return Format(id, language, years, sc.points_without_shocks,
                  Percent(sc.recovery_weight), recovery,
                  Percent(1 - sc.recovery_weight), as_data);
  }
  if (p.shock_treatment == ShockTreatment::kInclude) {
    return Format(MessageId::kExplainScenarioIncluded, language, years,
                  recovery);
  }
  if (sc.rule == ScenarioRule::kRecovery) {
    return Format(MessageId::kExplainScenarioRecovery, language, years,
                  as_data);
  }
  return Format(MessageId::kExplainScenarioExcluded, language, years, as_data);
}

std::string TrendSentences(const Projection& p, Language language) {
  const forecast::Explanation& e = p.explanation;
  if (!e.trend.has_value()) {
    const int year =
        p.fiscal_years_used.empty() ? 0 : p.fiscal_years_used.front();
    return Format(MessageId::kExplainTrendNone, language, Year(year, language));
  }
  const forecast::TrendComparison& t = *e.trend;
  const bool level = p.kind == domain::KpiKind::kLevel;
  std::string out = Format(
      level ? MessageId::kExplainTrend : MessageId::kExplainTrendTotal,
      language, t.points,
      Span(t.first_fiscal_year, t.last_fiscal_year, language),
      FormatSignedNumber(t.change_per_year), Value(p, t.extrapolated_value),
      Year(p.target_fiscal_year, language));
  // A blend follows two paths, a flat trend has nothing to damp: no share
  // of the trend to report.
  if (!level || p.shock_treatment == ShockTreatment::kBlend ||
      FormatSignedNumber(t.change_per_year) == "0") {
    return out;
  }
  const char* space = language == Language::kJa ? "" : " ";
  if (t.share_kept >= 0) {
    absl::StrAppend(
        &out, space,
        Format(MessageId::kExplainTrendShare, language, Percent(t.share_kept),
               e.calibration_version, t.points, Percent(t.calibrated_share),
               t.horizon_years));
  } else {
    absl::StrAppend(
        &out, space,
        Format(MessageId::kExplainTrendTurns, language, e.calibration_version));
  }
  return out;
}

std::string PaceSentence(const Projection& p, Language language) {
  if (!p.target_value.has_value()) {
    return std::string(Text(MessageId::kExplainNoTarget, language));
  }
  const forecast::Progress& g = p.progress;
  const std::string status(StatusLabel(p.status, language));
  const std::string target = Value(p, *p.target_value);
  const std::string target_year = Year(p.target_fiscal_year, language);
  if (p.status == ProgressStatus::kAchieved) {
    return Format(
        MessageId::kExplainPaceAchieved, language, Value(p, g.latest_value),
        Year(g.latest_fiscal_year, language), target, target_year, status);
  }
  if (p.status == ProgressStatus::kInsufficientData) {
    return Format(MessageId::kExplainPaceInsufficient, language, target,
                  target_year, status);
  }
  return Format(MessageId::kExplainPace, language, target, target_year,
                FormatSignedNumber(g.required_change_per_year),
                Value(p, g.base_value), Year(g.base_fiscal_year, language),
                FormatSignedNumber(g.observed_change_per_year),
                Value(p, g.latest_value), Year(g.latest_fiscal_year, language),
                status);
}

// The year a decline at the observed average pace reaches 0.
int YearAtZero(const forecast::Progress& g) {
  if (g.observed_change_per_year >= 0 || g.latest_value <= 0) {
    return g.latest_fiscal_year;
  }
  return g.latest_fiscal_year +
         static_cast<int>(
             std::ceil(g.latest_value / -g.observed_change_per_year));
}

std::string TrendSpan(const Projection& p, Language language) {
  const auto& t = p.explanation.trend;
  if (!t.has_value()) return "";
  return Span(t->first_fiscal_year, t->last_fiscal_year, language);
}

std::string DiscordanceSentence(const Projection& p, Language language,
                                bool summary) {
  const forecast::Progress& g = p.progress;
  const auto& t = p.explanation.trend;
  switch (p.explanation.discordance) {
    case Discordance::kNone:
      return "";
    case Discordance::kScenario:
      return summary ? Format(MessageId::kSummaryDiscordScenario, language,
                              Year(g.latest_fiscal_year, language))
                     : Format(MessageId::kExplainDiscordScenario, language,
                              Year(g.latest_fiscal_year, language),
                              Value(p, g.latest_value));
    case Discordance::kTrendPeriod: {
      const bool reaches = !Good(p.status);
      if (summary) {
        return Format(reaches ? MessageId::kSummaryDiscordTrendReaches
                              : MessageId::kSummaryDiscordTrendFallsShort,
                      language, TrendSpan(p, language));
      }
      return Format(reaches ? MessageId::kExplainDiscordTrendReaches
                            : MessageId::kExplainDiscordTrendFallsShort,
                    language, Year(g.base_fiscal_year, language),
                    Year(g.latest_fiscal_year, language),
                    TrendSpan(p, language));
    }
    case Discordance::kCalibration:
      if (p.status == ProgressStatus::kAchieved) {
        return std::string(Text(summary ? MessageId::kSummaryDiscordSlips
                                        : MessageId::kExplainDiscordSlips,
                                language));
      }
      if (Good(p.status) && t.has_value() && t->share_kept < 0) {
        return std::string(Text(summary ? MessageId::kSummaryDiscordReverses
                                        : MessageId::kExplainDiscordReverses,
                                language));
      }
      if (Good(p.status)) {
        return Format(summary ? MessageId::kSummaryDiscordDamped
                              : MessageId::kExplainDiscordDamped,
                      language, Percent(t.has_value() ? t->share_kept : 0),
                      t.has_value() ? t->points : 0);
      }
      return std::string(Text(summary ? MessageId::kSummaryDiscordTurns
                                      : MessageId::kExplainDiscordTurns,
                              language));
    case Discordance::kProportional:
      if (summary) {
        return std::string(
            Text(MessageId::kSummaryDiscordProportional, language));
      }
      return Format(MessageId::kExplainDiscordProportional, language,
                    FormatSignedNumber(g.observed_change_per_year),
                    FormatSignedNumber(g.required_change_per_year),
                    Year(YearAtZero(g), language));
    case Discordance::kSpread:
      return std::string(Text(summary ? MessageId::kSummaryDiscordSpread
                                      : MessageId::kExplainDiscordSpread,
                              language));
  }
  return "";
}

}  // namespace

std::string ExplanationText(const Projection& p, Language language) {
  std::vector<std::string> sentences;
  if (const forecast::YearProjection* y = TargetYear(p)) {
    sentences.push_back(Format(MessageId::kExplainProjected, language,
                               FiscalYearLabel(p.target_fiscal_year, language),
                               Value(p, y->median),
                               FormatNumber(y->interval_80.lower),
                               FormatNumber(y->interval_80.upper)));
  }
  sentences.push_back(TrendSentences(p, language));
  if (HasScenarios(p)) sentences.push_back(ScenarioSentence(p, language));
  sentences.push_back(PaceSentence(p, language));
  if (p.target_value.has_value()) {
    sentences.push_back(
        Format(MessageId::kExplainProbability, language,
               FormatProbability(p.attainment_probability),
               std::string(Text(LikelihoodMessage(p.explanation.likelihood),
                                language))));
    if (*p.target_value == 0 && p.explanation.resolution > 0) {
      sentences.push_back(Format(MessageId::kExplainZeroReported, language,
                                 FormatNumber(p.explanation.resolution / 2)));
    }
  }
  const std::string why = DiscordanceSentence(p, language, false);
  if (!why.empty()) sentences.push_back(why);
  return absl::StrJoin(sentences, language == Language::kJa ? "" : " ");
}

std::string ExplanationSummary(const Projection& p, Language language) {
  std::string head;
  if (p.target_value.has_value()) {
    head = Format(MessageId::kSummaryLikelihood, language,
                  std::string(Text(LikelihoodMessage(p.explanation.likelihood),
                                   language)),
                  FormatProbability(p.attainment_probability));
  } else {
    head = Format(MessageId::kSummaryNoTarget, language,
                  Value(p, p.projected_value),
                  Year(p.target_fiscal_year, language));
  }
  std::string clause = DiscordanceSentence(p, language, true);
  if (clause.empty() && HasScenarios(p)) {
    const forecast::ScenarioExplanation& sc = p.explanation.scenario;
    const std::string recovery = Outcome(p, sc.outcomes[0], language);
    const std::string as_data = Outcome(p, sc.outcomes[1], language);
    if (p.shock_treatment == ShockTreatment::kBlend) {
      clause = Format(MessageId::kSummaryBlend, language, recovery, as_data);
    } else if (p.shock_treatment == ShockTreatment::kInclude) {
      clause = Format(MessageId::kSummaryAsData, language, recovery);
    } else {
      clause = Format(MessageId::kSummaryRecovery, language, as_data);
    }
  }
  if (clause.empty()) {
    const auto& t = p.explanation.trend;
    clause =
        t.has_value()
            ? Format(MessageId::kSummaryTrend, language, TrendSpan(p, language),
                     Value(p, t->extrapolated_value),
                     Year(p.target_fiscal_year, language))
            : std::string(Text(MessageId::kSummaryNoTrend, language));
  }
  return absl::StrCat(head, language == Language::kJa ? "、" : "; ", clause);
}

}  // namespace kpi::i18n
