#include "lib/i18n/catalogue.h"

#include <cstdlib>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/dataset/terms.h"

namespace kpi::i18n {
namespace {

using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

// The $n placeholders a text uses.
std::set<char> Placeholders(std::string_view text) {
  std::set<char> found;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '$' && text[i + 1] >= '0' && text[i + 1] <= '9') {
      found.insert(text[i + 1]);
    }
  }
  return found;
}

TEST(CatalogueTest, EveryMessageHasBothLanguagesWithTheSamePlaceholders) {
  for (int i = 0; i < static_cast<int>(MessageId::kMessageCount); ++i) {
    const auto id = static_cast<MessageId>(i);
    const std::string_view ja = Text(id, Language::kJa);
    const std::string_view en = Text(id, Language::kEn);
    EXPECT_FALSE(ja.empty()) << "message " << i;
    EXPECT_FALSE(en.empty()) << "message " << i;
    EXPECT_EQ(Placeholders(ja), Placeholders(en)) << "message " << i;
  }
}

TEST(CatalogueTest, ParsesLanguageCodes) {
  EXPECT_THAT(ParseLanguage("ja"), IsOkAndHolds(Language::kJa));
  EXPECT_THAT(ParseLanguage("JA-jp"), IsOkAndHolds(Language::kJa));
  EXPECT_THAT(ParseLanguage("ja_JP.UTF-8"), IsOkAndHolds(Language::kJa));
  EXPECT_THAT(ParseLanguage("en"), IsOkAndHolds(Language::kEn));
  EXPECT_THAT(ParseLanguage("en_US"), IsOkAndHolds(Language::kEn));
  EXPECT_THAT(ParseLanguage(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("ja (Japanese)")));
  EXPECT_THAT(ParseLanguage("fr"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("\"fr\"")));
  // A long code is quoted by a short prefix only.
  const std::string long_code(1000, 'x');
  const auto status = ParseLanguage(long_code).status();
  EXPECT_LT(status.message().size(), 200u);
}

TEST(CatalogueTest, LanguageFromEnvironmentReadsLcAllFirst) {
  setenv("LC_ALL", "ja_JP.UTF-8", 1);
  setenv("LANG", "en_US.UTF-8", 1);
  EXPECT_EQ(LanguageFromEnvironment(), Language::kJa);
  setenv("LC_ALL", "", 1);
  setenv("LC_MESSAGES", "", 1);
  EXPECT_EQ(LanguageFromEnvironment(), Language::kEn);
  unsetenv("LANG");
  EXPECT_EQ(LanguageFromEnvironment(), Language::kEn);
  unsetenv("LC_ALL");
  unsetenv("LC_MESSAGES");
}

TEST(CatalogueTest, StatusAndWarningLabels) {
  EXPECT_EQ(StatusLabel(forecast::ProgressStatus::kOnTrack, Language::kJa),
            "順調");
  EXPECT_EQ(StatusLabel(forecast::ProgressStatus::kOnTrack, Language::kEn),
            "on track");
  EXPECT_EQ(
      StatusLabel(forecast::ProgressStatus::kDeteriorating, Language::kJa),
      "悪化");
  EXPECT_EQ(WarningLabel(forecast::WarningCode::kFewPoints, Language::kJa),
            "観測点が少ない");
  EXPECT_EQ(WarningLabel(forecast::WarningCode::kFewPoints, Language::kEn),
            "few points");
  EXPECT_EQ(WarningLabel(static_cast<forecast::WarningCode>(99), Language::kEn),
            "caveat");
}

TEST(CatalogueTest, LikelihoodWordsFollowTheIpccScale) {
  struct Case {
    double p;
    std::string_view ja;
    std::string_view en;
  };
  for (const Case& c : {Case{1.0, "ほぼ確実", "virtually certain"},
                        Case{0.99, "ほぼ確実", "virtually certain"},
                        Case{0.95, "可能性が非常に高い", "very likely"},
                        Case{0.66, "可能性が高い", "likely"},
                        Case{0.5, "五分五分", "about as likely as not"},
                        Case{0.33, "可能性が低い", "unlikely"},
                        Case{0.10, "可能性が非常に低い", "very unlikely"},
                        Case{0.01, "ほぼ不可能", "exceptionally unlikely"},
                        Case{0.0, "ほぼ不可能", "exceptionally unlikely"}}) {
    EXPECT_EQ(LikelihoodWords(c.p, Language::kJa), c.ja) << c.p;
    EXPECT_EQ(LikelihoodWords(c.p, Language::kEn), c.en) << c.p;
  }
}

TEST(CatalogueTest, FiscalYearLabels) {
  EXPECT_EQ(FiscalYearLabel(2024, Language::kJa), "令和6年度 (FY2024)");
  EXPECT_EQ(FiscalYearLabel(2024, Language::kEn), "FY2024 (R6)");
  EXPECT_EQ(FiscalYearLabel(2019, Language::kJa), "令和元年度 (FY2019)");
  EXPECT_EQ(FiscalYearLabel(2018, Language::kEn), "FY2018 (H30)");
  EXPECT_EQ(FiscalYearLabel(1900, Language::kEn), "FY1900");
}

TEST(CatalogueTest, FiscalPeriodLabels) {
  EXPECT_EQ(FiscalPeriodLabel(0, 2021, Language::kJa), "令和3年度 (FY2021)");
  EXPECT_EQ(FiscalPeriodLabel(2021, 2021, Language::kEn), "FY2021 (R3)");
  EXPECT_EQ(FiscalPeriodLabel(2016, 2018, Language::kJa),
            "平成28-30年度 (FY2016-2018)");
  EXPECT_EQ(FiscalPeriodLabel(2016, 2018, Language::kEn),
            "FY2016-2018 (H28-30)");
  EXPECT_EQ(FiscalPeriodLabel(2018, 2020, Language::kJa),
            "平成30-令和2年度 (FY2018-2020)");
  EXPECT_EQ(FiscalPeriodLabel(2018, 2020, Language::kEn),
            "FY2018-2020 (H30-R2)");
  EXPECT_EQ(FiscalPeriodLabel(1920, 1925, Language::kEn), "FY1920-1925");
  EXPECT_EQ(FiscalPeriodLabel(1920, 1925, Language::kJa), "1920-1925年度");
}

TEST(CatalogueTest, DomainLabels) {
  using domain::ObservationStatus;
  EXPECT_EQ(
      ObservationStatusLabel(ObservationStatus::kProvisional, Language::kJa),
      "暫定値");
  EXPECT_EQ(
      ObservationStatusLabel(ObservationStatus::kCarriedOver, Language::kEn),
      "carried over");
  EXPECT_EQ(
      ObservationStatusLabel(ObservationStatus::kUnspecified, Language::kJa),
      "-");
  EXPECT_EQ(AggregationLabel(domain::Aggregation::kMean, Language::kJa),
            "平均");
  EXPECT_EQ(KindLabel(domain::KpiKind::kPeriodSum, Language::kEn),
            "sum over the plan period");
  EXPECT_EQ(DirectionLabel(domain::Direction::kDecrease, Language::kJa),
            "低いほど良い");
  EXPECT_EQ(RatingLabel(domain::Rating::kContinueAndExpand, Language::kJa),
            "継続発展");
  EXPECT_EQ(RatingLabel(domain::Rating::kRevise, Language::kEn),
            "revise (見直し)");
  EXPECT_EQ(Format(MessageId::kKpiCount, Language::kJa, 30), "KPI 30件");
}

TEST(CatalogueTest, StatusWordsReadBackFromCsv) {
  // What kpictl shows is what a CSV may say: the importer accepts every
  // label of the catalogue in both languages.
  for (auto status : {domain::ObservationStatus::kFinal,
                      domain::ObservationStatus::kProvisional,
                      domain::ObservationStatus::kCarriedOver}) {
    for (Language language : {Language::kJa, Language::kEn}) {
      EXPECT_THAT(dataset::ParseObservationStatusTerm(
                      ObservationStatusLabel(status, language)),
                  IsOkAndHolds(status));
    }
    EXPECT_EQ(ObservationStatusLabel(status, Language::kJa),
              dataset::ObservationStatusTerm(status, true));
  }
}

}  // namespace
}  // namespace kpi::i18n
