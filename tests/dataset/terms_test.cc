#include "lib/dataset/terms.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::dataset {
namespace {

using domain::Aggregation;
using domain::Direction;
using domain::KpiKind;
using domain::ObservationStatus;
using domain::ValueDomain;
using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ObservationStatusTermTest, EnglishNamesInAnyForm) {
  struct Case {
    const char* cell;
    ObservationStatus want;
  } cases[] = {
      {"", ObservationStatus::kUnspecified},
      {"  ", ObservationStatus::kUnspecified},
      {"FINAL", ObservationStatus::kFinal},
      {"final", ObservationStatus::kFinal},
      {"OBSERVATION_STATUS_PROVISIONAL", ObservationStatus::kProvisional},
      {"carried_over", ObservationStatus::kCarriedOver},
      {"Carried over", ObservationStatus::kCarriedOver},
      {"carried-over", ObservationStatus::kCarriedOver},
      {"ＦＩＮＡＬ", ObservationStatus::kFinal},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseObservationStatusTerm(c.cell), IsOkAndHolds(c.want))
        << c.cell;
  }
}

TEST(ObservationStatusTermTest, WordsOfJapaneseStatisticsTables) {
  // What e-Stat tables and municipal KPI sheets write beside a figure.
  struct Case {
    const char* cell;
    ObservationStatus want;
  } cases[] = {
      {"確定", ObservationStatus::kFinal},
      {"確定値", ObservationStatus::kFinal},
      {"確報", ObservationStatus::kFinal},
      {"確報値", ObservationStatus::kFinal},
      {"確定数", ObservationStatus::kFinal},
      {"実績値", ObservationStatus::kFinal},
      {"決算", ObservationStatus::kFinal},
      {"暫定", ObservationStatus::kProvisional},
      {"暫定値", ObservationStatus::kProvisional},
      {"速報", ObservationStatus::kProvisional},
      {"速報値", ObservationStatus::kProvisional},
      {"概数", ObservationStatus::kProvisional},
      {"概算値", ObservationStatus::kProvisional},
      {"見込み", ObservationStatus::kProvisional},
      {"見込値", ObservationStatus::kProvisional},
      {"推計", ObservationStatus::kProvisional},
      {"推計値", ObservationStatus::kProvisional},
      {"推定値", ObservationStatus::kProvisional},
      {"据置", ObservationStatus::kCarriedOver},
      {"据え置き", ObservationStatus::kCarriedOver},
      {"前年度値", ObservationStatus::kCarriedOver},
      {"前回調査値", ObservationStatus::kCarriedOver},
      // Brackets and spaces as tables write them.
      {"(速報)", ObservationStatus::kProvisional},
      {"（速報値）", ObservationStatus::kProvisional},
      {"【確定】", ObservationStatus::kFinal},
      {"［暫定］", ObservationStatus::kProvisional},
      {"〔見込み〕", ObservationStatus::kProvisional},
      {"「据置」", ObservationStatus::kCarriedOver},
      {"　確定値　", ObservationStatus::kFinal},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseObservationStatusTerm(c.cell), IsOkAndHolds(c.want))
        << c.cell;
  }
}

TEST(ObservationStatusTermTest, RefusesWhatItDoesNotKnow) {
  for (const char* cell : {"確定済", "速報(修正)", "((速報))", "未定", "F",
                           "final value", "\xE7\xA2", "予測"}) {
    EXPECT_THAT(ParseObservationStatusTerm(cell),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a status; accepted: FINAL (確定値")))
        << cell;
  }
  const absl::Status status = ParseObservationStatusTerm("未定").status();
  EXPECT_THAT(status.message(),
              HasSubstr("PROVISIONAL (暫定値, 暫定, 速報値, 速報, "));
  EXPECT_THAT(status.message(), HasSubstr("CARRIED_OVER (据置, "));
  EXPECT_THAT(status.message(),
              HasSubstr("(with or without OBSERVATION_STATUS_), or blank"));
}

TEST(ObservationStatusTermTest, WrittenWordsReadBack) {
  for (ObservationStatus s :
       {ObservationStatus::kFinal, ObservationStatus::kProvisional,
        ObservationStatus::kCarriedOver}) {
    for (bool japanese : {false, true}) {
      EXPECT_THAT(
          ParseObservationStatusTerm(ObservationStatusTerm(s, japanese)),
          IsOkAndHolds(s));
    }
    for (std::string_view word : JapaneseObservationStatusTerms(s)) {
      EXPECT_THAT(ParseObservationStatusTerm(word), IsOkAndHolds(s)) << word;
    }
  }
  EXPECT_EQ(ObservationStatusTerm(ObservationStatus::kFinal, true), "確定値");
  EXPECT_EQ(ObservationStatusTerm(ObservationStatus::kProvisional, true),
            "暫定値");
  EXPECT_EQ(ObservationStatusTerm(ObservationStatus::kCarriedOver, true),
            "据置");
  EXPECT_EQ(ObservationStatusTerm(ObservationStatus::kCarriedOver, false),
            "CARRIED_OVER");
  EXPECT_EQ(ObservationStatusTerm(ObservationStatus::kUnspecified, true), "");
}

TEST(OtherTermsTest, EnglishAndJapanese) {
  EXPECT_THAT(ParseAggregationTerm("平均"), IsOkAndHolds(Aggregation::kMean));
  EXPECT_THAT(ParseAggregationTerm("AGGREGATION_SUM"),
              IsOkAndHolds(Aggregation::kSum));
  EXPECT_THAT(ParseAggregationTerm("合計"), IsOkAndHolds(Aggregation::kSum));
  EXPECT_THAT(ParseDirectionTerm("減少"), IsOkAndHolds(Direction::kDecrease));
  EXPECT_THAT(ParseDirectionTerm("increase"),
              IsOkAndHolds(Direction::kIncrease));
  EXPECT_THAT(ParseDirectionTerm("DIRECTION_DECREASE"),
              IsOkAndHolds(Direction::kDecrease));
  EXPECT_THAT(ParseValueDomainTerm("non-negative"),
              IsOkAndHolds(ValueDomain::kNonNegative));
  EXPECT_THAT(ParseValueDomainTerm("非負"),
              IsOkAndHolds(ValueDomain::kNonNegative));
  EXPECT_THAT(ParseValueDomainTerm("%"), IsOkAndHolds(ValueDomain::kPercent));
  EXPECT_THAT(ParseValueDomainTerm("％"), IsOkAndHolds(ValueDomain::kPercent));
  EXPECT_THAT(ParseValueDomainTerm("割合"),
              IsOkAndHolds(ValueDomain::kPercent));
  EXPECT_THAT(ParseKpiKindTerm("累計"), IsOkAndHolds(KpiKind::kRunningTotal));
  EXPECT_THAT(ParseKpiKindTerm("期間累計"), IsOkAndHolds(KpiKind::kPeriodSum));
  EXPECT_THAT(ParseKpiKindTerm("period sum"),
              IsOkAndHolds(KpiKind::kPeriodSum));
  EXPECT_THAT(ParseKpiKindTerm("KPI_KIND_LEVEL"),
              IsOkAndHolds(KpiKind::kLevel));
  EXPECT_THAT(
      ParseKpiKindTerm("up"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("\"up\" is not a KPI kind; accepted: LEVEL (")));
  EXPECT_EQ(AggregationTerm(Aggregation::kMean, true), "平均");
  EXPECT_EQ(AggregationTerm(Aggregation::kSum, false), "SUM");
}

}  // namespace
}  // namespace kpi::dataset
