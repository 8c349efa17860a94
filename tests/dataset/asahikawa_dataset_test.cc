// The second, independent transcription of the Asahikawa FY2021 evaluation
// (seed 000_8266a3359b23c24b.txt): a table typed by hand from the seed,
// compared value by value with lib/dataset/data/asahikawa-fy2021.json. The
// reading decisions both follow are listed in lib/dataset/data/README.md.

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "kpi/v1/kpi_service.pb.h"

namespace kpi::dataset {
namespace {

using ::kpi::v1::Dataset;

constexpr char kStrategy[] = "strategies/asahikawa-2020";
constexpr char kPrivateRate[] = "references/statutory-employment-rate-private";
constexpr char kGovernmentRate[] =
    "references/statutory-employment-rate-government";

// ---------------------------------------------------------------------------
// The hand-written table.

struct GoalRow {
  int number;
  const char* display_name;
};

const GoalRow kGoals[] = {
    {1, "若い世代の結婚・出産・子育ての希望をかなえる"},
    {2, "新しい人の流れをつくり、留まれる中核拠点を創出する"},
    {3,
     "北北海道を舞台にチャレンジするひとや企業を応援し、新たな雇用を創出する"},
    {4, "安心で魅力ある持続可能な拠点都市を形成する"},
};

struct MeasureRow {
  const char* id;
  int goal;
  const char* parent;  // "" for a top-level measure
  const char* code;
  const char* display_name;
};

const MeasureRow kMeasures[] = {
    {"g1-a", 1, "", "ア", "安心して妊娠、出産、育児ができる総合的な支援"},
    {"g1-i", 1, "", "イ", "結婚を希望する人への情報提供の充実"},
    {"g1-u", 1, "", "ウ", "子どもたちへの教育環境の充実"},
    {"g1-e", 1, "", "エ", "ワーク・ライフ・バランス(仕事と生活の調和)の実現"},
    {"g2-a", 2, "", "ア", "移住(UJターンを含む)に関する総合的な環境整備"},
    {"g2-i", 2, "", "イ",
     "大学等の活性化と企業等との連携による若者の地元就職の促進"},
    {"g2-u", 2, "", "ウ", "時代に即し、地域の特性を生かした企業誘致の促進"},
    {"g2-e", 2, "", "エ",
     "スポーツ、文化・芸術やアウトドア環境を活用した滞在の促進"},
    {"g2-e-1", 2, "g2-e", "エ①",
     "スポーツ大会・合宿の誘致及びプロスポーツとの連携"},
    {"g2-e-2", 2, "g2-e", "エ②",
     "観光客の滞在とリピート率増加に向けた街全体の魅力向上"},
    {"g2-e-3", 2, "g2-e", "エ③",
     "冬季のイベントやアクティビティ等の充実による冬季観光の推進"},
    {"g3-a", 3, "", "ア",
     "地域商社の機能強化と地元企業の海外進出や販路拡大の促進"},
    {"g3-i", 3, "", "イ",
     "先端技術や地域の強みを活用し未来を見据えた産業の創出"},
    {"g3-u", 3, "", "ウ",
     "街の産業を支える人材として全ての人が活躍できる環境づくり"},
    {"g4-a", 4, "", "ア", "旭川空港の利用拡大と交通機能の充実"},
    {"g4-a-1", 4, "g4-a", "ア①", "旭川空港の利用拡大"},
    {"g4-a-2", 4, "g4-a", "ア②", "バスなど公共交通機能の充実"},
    {"g4-i", 4, "", "イ", "中心市街地の基盤としての機能と魅力の向上"},
    {"g4-u", 4, "", "ウ", "地域主体のまちづくりの充実"},
    {"g4-e", 4, "", "エ", "北北海道や上川中部圏域との連携促進"},
    {"g4-o", 4, "", "オ", "関係人口の拡大を目指した積極的な情報提供の促進"},
};

constexpr auto kLevel = v1::KPI_KIND_LEVEL;
constexpr auto kRunning = v1::KPI_KIND_RUNNING_TOTAL;
constexpr auto kPeriod = v1::KPI_KIND_PERIOD_SUM;
constexpr auto kFinal = v1::OBSERVATION_STATUS_FINAL;
constexpr auto kCarried = v1::OBSERVATION_STATUS_CARRIED_OVER;

struct ObsRow {
  int first_year;  // 0 for a single year
  int year;
  double value;
  v1::ObservationStatus status;
  const char* note;
};

struct BaselineRow {
  bool present;
  int first_year;  // 0 for a single year
  int year;
  double value;
  const char* label;
};

struct TargetRow {
  double value;           // ignored when reference is set
  const char* reference;  // "" for a numeric target
  const char* label;
};

struct KpiRow {
  const char* id;
  const char* measure;
  int goal;
  const char* measure_code;
  const char* display_name;
  const char* measurement_note;
  const char* unit;
  v1::KpiKind kind;
  BaselineRow baseline;
  TargetRow target;
  bool pandemic_shock;  // shock_fiscal_years [2020, 2021]
  int ordinal;
  std::vector<ObsRow> observations;
};

constexpr BaselineRow kNoBaseline = {false, 0, 0, 0, ""};
constexpr char kBase[] = "基準値";
constexpr char kR3[] = "令和3年度実績値";

const std::vector<KpiRow>& Kpis() {
  static const auto* const kpis = new std::vector<KpiRow>{
      // 基本目標1
      {"children-growing-healthily",
       "g1-a",
       1,
       "ア",
       "子どもたちが健やかに成長していると感じる市民の割合",
       "市民アンケート結果",
       "%",
       kLevel,
       {true, 0, 2019, 59.9, "59.9 (令和元年度)"},
       {65.0, "", "65.0"},
       true,
       0,
       {{0, 2015, 55.5, kFinal, "KPIの現状認識: H27・55.5%"},
        {0, 2017, 58.1, kFinal, "KPIの現状認識: H29・58.1%"},
        {0, 2019, 59.9, kFinal, "基準値; KPIの現状認識: R1・59.9%"},
        {0, 2021, 50.6, kFinal,
         "令和3年度実績値; KPIの現状認識: "
         "令和3年度市民アンケート結果では50.6%"}}},
      {"matchmaking-site-page-views",
       "g1-i",
       1,
       "イ",
       "あさひかわ縁結びネットワークのホームページページビュー数",
       "各年度PV数",
       "PV",
       kLevel,
       {true, 0, 2018, 46789, "46,789 (平成30年度)"},
       {62000, "", "62,000"},
       true,
       0,
       {{0, 2018, 46789, kFinal, kBase}, {0, 2021, 16611, kFinal, kR3}}},
      {"education-environment-satisfaction",
       "g1-u",
       1,
       "ウ",
       "子どもたちへの教育環境が充実していると感じる市民の割合",
       "市民アンケート結果",
       "%",
       kLevel,
       {true, 0, 2019, 34.2, "34.2 (令和元年度)"},
       {38.5, "", "38.5"},
       true,
       0,
       {{0, 2015, 31.6, kFinal, "KPIの現状認識: H27・31.6%"},
        {0, 2017, 32.9, kFinal, "KPIの現状認識: H29・32.9%"},
        {0, 2019, 34.2, kFinal, "基準値; KPIの現状認識: R1・34.2%"},
        {0, 2021, 27.0, kFinal,
         "令和3年度実績値; KPIの現状認識: 令和3年度は27.0%"}}},
      {"work-life-balance",
       "g1-e",
       1,
       "エ",
       "「ワーク・ライフ・バランスが実現できている」と思う市民の割合",
       "市民アンケート結果",
       "%",
       kLevel,
       {true, 0, 2019, 22.0, "22.0 (令和元年度)"},
       {26.5, "", "26.5"},
       false,
       0,
       {{0, 2019, 22.0, kFinal, kBase}, {0, 2021, 23.0, kFinal, kR3}}},
      // 基本目標2
      {"migration-event-participants",
       "g2-a",
       2,
       "ア",
       "移住相談会や交流会などの参加者数",
       "累計数",
       "人",
       kPeriod,
       kNoBaseline,
       {705, "", "705 (令和2-6年度累計数)"},
       false,
       0,
       {{0, 2020, 190, kFinal, "KPIの現状認識: 昨年度実績190人"},
        {0, 2021, 348, kFinal, kR3}}},
      {"job-site-local-hires",
       "g2-a",
       2,
       "ア",
       "企業情報提供サイトを活用して旭川市内に就職した人数",
       "累計数",
       "人",
       kPeriod,
       kNoBaseline,
       {56, "", "56 (令和2-6年度累計数)"},
       false,
       1,
       {{0, 2021, 62, kFinal, kR3}}},
      {"graduates-hired-locally",
       "g2-i",
       2,
       "イ",
       "市内に就職した新規卒業生の割合",
       "",
       "%",
       kLevel,
       {true, 0, 2018, 44.87, "44.87 (平成30年度)"},
       {48, "", "48"},
       false,
       0,
       {{0, 2018, 44.87, kFinal, kBase}, {0, 2021, 47.2, kFinal, kR3}}},
      {"companies-located",
       "g2-u",
       2,
       "ウ",
       "企業立地件数",
       "累計数",
       "件",
       kPeriod,
       kNoBaseline,
       {30, "", "30 (令和2-6年度累計)"},
       false,
       0,
       {{0, 2021, 3, kFinal, kR3}}},
      {"sports-events",
       "g2-e-1",
       2,
       "エ①",
       "国際・全国等スポーツ大会数",
       "各年度件数",
       "件",
       kLevel,
       {true, 0, 2018, 13, "13 (平成30年度)"},
       {19, "", "19"},
       true,
       0,
       {{0, 2018, 13, kFinal, kBase}, {0, 2021, 8, kFinal, kR3}}},
      {"sports-camp-participants",
       "g2-e-1",
       2,
       "エ①",
       "スポーツ合宿誘致者数",
       "各年度人数",
       "人",
       kLevel,
       {true, 0, 2018, 3395, "3,395 (平成30年度)"},
       {4000, "", "4,000"},
       true,
       1,
       {{0, 2018, 3395, kFinal, kBase},
        {0, 2020, 2042, kFinal, "令和2年度実績 ※令和3年度分は9月頃確定予定"}}},
      {"tourist-repeat-rate",
       "g2-e-2",
       2,
       "エ②",
       "観光客のリピート率",
       "",
       "%",
       kLevel,
       {true, 0, 2018, 58.0, "58.0 (平成30年度)"},
       {66.0, "", "66.0"},
       true,
       0,
       {{0, 2018, 58.0, kFinal, kBase}, {0, 2021, 77.2, kFinal, kR3}}},
      {"tourist-spending-per-person",
       "g2-e-2",
       2,
       "エ②",
       "本圏域を訪れる観光客の旅行消費額(一人あたり)",
       "",
       "千円",
       kLevel,
       {true, 0, 2018, 43, "43 (平成30年度)"},
       {55.0, "", "55.0"},
       true,
       1,
       {{0, 2018, 43, kFinal, kBase}, {0, 2021, 36.0, kFinal, kR3}}},
      {"winter-overnight-stays",
       "g2-e-3",
       2,
       "エ③",
       "冬期(12-3月)観光客宿泊延数",
       "各年度泊数",
       "千泊",
       kLevel,
       {true, 0, 2018, 388, "388 (平成30年度)"},
       {465, "", "465"},
       true,
       0,
       {{0, 2018, 388, kFinal, kBase}, {0, 2021, 126, kFinal, kR3}}},
      // 基本目標3
      {"overseas-bases",
       "g3-a",
       3,
       "ア",
       "海外進出企業の海外拠点数",
       "累計数",
       "箇所",
       kLevel,  // 累計数, but a stock that fell from 40 to 35
       {true, 0, 2018, 40, "40 (平成30年度)"},
       {63, "", "63"},
       true,
       0,
       {{0, 2018, 40, kFinal, kBase},
        {0, 2020, 35, kFinal, "令和2年度実績 (令和3年度分は10月頃確定予定)"}}},
      {"gross-value-added",
       "g3-i",
       3,
       "イ",
       "粗付加価値額",
       "",
       "万円",
       kLevel,
       {true, 0, 2017, 8246014, "8,246,014 (平成29年度)"},
       {9812544, "", "9,812,544"},
       true,
       0,
       {{0, 2017, 8246014, kFinal, kBase},
        {0, 2019, 8930780, kFinal, "令和元年度"}}},
      {"agribusiness-startups",
       "g3-i",
       3,
       "イ",
       "アグリビジネス起業数",
       "累計数",
       "件",
       kRunning,
       {true, 0, 2018, 93, "93 (平成30年度)"},
       {99, "", "99"},
       false,
       1,
       {{0, 2018, 93, kFinal, kBase}, {0, 2021, 96, kFinal, kR3}}},
      {"produce-sales",
       "g3-i",
       3,
       "イ",
       "青果物販売額",
       "",
       "百万円",
       kLevel,
       {true, 0, 2018, 1761, "1,761 (平成30年度)"},
       {1963, "", "1,963"},
       false,
       2,
       {{0, 2018, 1761, kFinal, kBase}, {0, 2021, 1603, kFinal, kR3}}},
      {"farmland-consolidation-rate",
       "g3-i",
       3,
       "イ",
       "担い手農家への農地集積率",
       "",
       "%",
       kLevel,
       {true, 0, 2018, 73.8, "73.8 (平成30年度)"},
       {77.7, "", "77.7"},
       false,
       3,
       {{0, 2018, 73.8, kFinal, kBase}, {0, 2021, 77.1, kFinal, kR3}}},
      {"new-businesses",
       "g3-u",
       3,
       "ウ",
       "新規開業件数",
       "各年度件数",
       "件",
       kLevel,
       {true, 0, 2018, 313, "313 (平成30年度)"},
       {331, "", "331"},
       false,
       0,
       {{0, 2018, 313, kFinal, kBase}, {0, 2021, 313, kFinal, kR3}}},
      {"new-farmers",
       "g3-u",
       3,
       "ウ",
       "新規就農者数",
       "累計数",
       "人",
       kRunning,
       {true, 0, 2018, 57, "57 (平成30年度)"},
       {67, "", "67"},
       false,
       1,
       {{0, 2018, 57, kFinal, kBase}, {0, 2021, 64, kFinal, kR3}}},
      {"female-employment-rate",
       "g3-u",
       3,
       "ウ",
       "女性就業率",
       "",
       "%",
       kLevel,
       {true, 0, 2018, 39.8, "39.8 (平成30年度)"},
       {43.0, "", "43.0"},
       false,
       2,
       {{0, 2018, 39.8, kFinal, kBase},
        {0, 2021, 39.8, kCarried,
         "平成30年度; KPIの現状認識: "
         "経済センサスの次回調査時まで実績値に変動がない"}}},
      {"disability-employment-rate",
       "g3-u",
       3,
       "ウ",
       "障がい者の雇用率",
       "",
       "%",
       kLevel,
       {true, 0, 2019, 2.19, "2.19 (令和元年度)"},
       {0, kPrivateRate, "法定雇用率以上"},
       false,
       3,
       {{0, 2019, 2.19, kFinal, kBase},
        {0, 2021, 2.67, kFinal,
         "令和3年度実績値; KPIの現状認識: 最新の実績(2.67)"}}},
      // 基本目標4
      {"airport-passengers",
       "g4-a-1",
       4,
       "ア①",
       "空港乗降客数",
       "各年度人数",
       "万人",
       kLevel,
       {true, 0, 2018, 113.5, "113.5 (平成30年度)"},
       {145, "", "145"},
       true,
       0,
       {{0, 2018, 113.5, kFinal, kBase}, {0, 2021, 45.9, kFinal, kR3}}},
      {"bus-rides-per-capita",
       "g4-a-2",
       4,
       "ア②",
       "市民一人当たりの路線バスの年間利用回数",
       "",
       "回",
       kLevel,
       {true, 0, 2018, 32.6, "32.6 (平成30年度)"},
       {36.6, "", "36.6"},
       true,
       0,
       {{0, 2018, 32.6, kFinal, kBase},
        {0, 2020, 22.8, kFinal, "令和2年度実績 (※令和3年度分は10月確定予定)"}}},
      {"city-centre-residents",
       "g4-i",
       4,
       "イ",
       "まちなか居住人口",
       "各年10月1日人数",
       "人",
       kLevel,
       {true, 0, 2019, 9817, "9,817 (令和元年度)"},
       {10400, "", "10400"},
       true,
       0,
       {{0, 2019, 9817, kFinal, kBase}, {0, 2021, 9512, kFinal, kR3}}},
      {"community-council-participants",
       "g4-u",
       4,
       "ウ",
       "地域まちづくり推進協議会の事業・活動に参画した地域住民の人数",
       "各年度人数",
       "人",
       kLevel,
       {true, 0, 2018, 1454, "1,454 (平成30年度)"},
       {1500, "", "1,500"},
       true,
       0,
       {{0, 2018, 1454, kFinal, kBase}, {0, 2021, 895, kFinal, kR3}}},
      {"community-grants",
       "g4-u",
       4,
       "ウ",
       "地域まちづくり推進事業補助金・負担金の交付件数",
       "各年度件数",
       "件",
       kLevel,
       {true, 0, 2018, 61, "61 (平成30年度)"},
       {75, "", "75"},
       true,
       1,
       {{0, 2018, 61, kFinal, kBase}, {0, 2021, 58, kFinal, kR3}}},
      {"north-hokkaido-initiatives",
       "g4-e",
       4,
       "エ",
       "北北海道の自治体との連携による取組数",
       "各年度件数",
       "件",
       kLevel,
       {true, 0, 2019, 38, "38 (令和元年度)"},
       {42, "", "42"},
       false,
       0,
       {{0, 2019, 38, kFinal, kBase}, {0, 2021, 41, kFinal, kR3}}},
      {"kamikawa-chubu-initiatives",
       "g4-e",
       4,
       "エ",
       "上川中部定住自立圏形成協定に基づく取組数",
       "各年度件数",
       "件",
       kLevel,
       {true, 0, 2019, 154, "154 (令和元年度)"},
       {166, "", "166"},
       false,
       1,
       {{0, 2019, 154, kFinal, kBase}, {0, 2021, 189, kFinal, kR3}}},
      {"city-website-hits",
       "g4-o",
       4,
       "オ",
       "ホームページアクセス(全ページ合計)件数",
       "各年度件数",
       "万件",
       kLevel,
       {true, 2016, 2018, 1669, "1,669 (平成28-30年度の平均値)"},
       {1770, "", "1,770"},
       true,
       0,
       {{2016, 2018, 1669, kFinal, kBase}, {0, 2021, 3182, kFinal, kR3}}},
  };
  return *kpis;
}

// Each text is given by the start of every cell it was formed from (one
// cell, or two for エ② whose KPIs each have their own cells).
struct EvaluationRow {
  const char* measure;
  v1::Rating rating;
  std::vector<const char*> assessment;
  std::vector<const char*> outlook;  // empty: the cell is missing
  std::vector<const char*> viewpoint;
};

constexpr auto kExpand = v1::RATING_CONTINUE_AND_EXPAND;
constexpr auto kContinue = v1::RATING_CONTINUE;

const std::vector<EvaluationRow>& Evaluations() {
  static const auto* const rows = new std::vector<EvaluationRow>{
      {"g1-a",
       kExpand,
       {"子どもたちの健やかな成長を示す"},
       {"子育て世代が安心して将来にわたる"},
       {"引き続き、子育て、保育ニーズを"}},
      {"g1-i",
       kContinue,
       {"令和3年度は、あさひかわ縁結び"},
       {"令和4年度に実施を予定している婚活"},
       {"企業(団体)との役割分担が重要"}},
      {"g1-u",
       kContinue,
       {"子どもたちへの教育環境が充実して"},
       {"スクールカウンセラーの相談・配置"},
       {"英語教育、情報教育の推進に加えて"}},
      {"g1-e",
       kExpand,
       {"各年度の達成目標値に対して約50%"},
       {"長時間労働の改善には事業者側の"},
       {"官民が連携して男性の育児参加など"}},
      {"g2-a",
       kExpand,
       {"移住相談イベントのオンライン化が"},
       {"新型コロナウイルスの感染拡大や"},
       {"全国的に見て本市の知名度は低い"}},
      {"g2-i",
       kContinue,
       {"目標値に対して0.8ポイント下回って"},
       {},
       {"企業情報提供サイトの活用をはじめ"}},
      {"g2-u",
       kContinue,
       {"平成30年度から分譲を開始した動物園"},
       {"引き続き地域企業育成事業による"},
       {"旭川大雪圏東京事務所と連携しながら"}},
      {"g2-e-1",
       kContinue,
       {"新型コロナウイルス感染症の影響により、全国的"},
       {"各競技の全国大会は年度によって"},
       {"冬季オリンピックの札幌誘致の動向"}},
      {"g2-e-2",
       kContinue,
       {"新型コロナウイルス感染症の影響によって道外",
        "全国的に近隣地域間での観光が"},
       {"リピート率の向上と安定を図るため",
        "豊かな自然の中でスポーツ・アウトドア"},
       {"観光客の回復に向け引き続き", "滞在型観光の実現には、広域観光"}},
      {"g2-e-3",
       kContinue,
       {"R3年度は、R2年度に引き続き"},
       {"ATWS(アドベンチャーワールドサミット)"},
       {"引き続き、一般社団法人大雪カムイ"}},
      {"g3-a",
       kExpand,
       {"実績値は、目標値に対して下回って"},
       {"コロナ禍による市場構造の変化や"},
       {"コロナ禍における、オンラインを活用"}},
      {"g3-i",
       kExpand,
       {"令和元年度の目標値を上回っているが"},
       {"新型コロナウイルス感染症により、多く"},
       {"国の動きを捉えながら、地域特性"}},
      {"g3-u",
       kExpand,
       {"新規開業件数については昨年度は"},
       {"新規開業については、関係市町村"},
       {"まちを支える産業の担い手不足が"}},
      {"g4-a-1",
       kExpand,
       {"新型コロナウイルス感染症の拡大により国内外"},
       {"感染症の対策を勘案しながら"},
       {"今後も新型コロナウイルス感染症の動向"}},
      {"g4-a-2",
       kExpand,
       {"新型コロナウイルス感染症の拡大の影響を受け"},
       {"旭川市公共交通網形成計画に基づき"},
       {"かねてより進行してきた人口減少"}},
      {"g4-i",
       kExpand,
       {"まちなか居住人口は、中心市街地"},
       {"旭川市中心市街地活性化基本計画"},
       {"今後も、魅力ある中心市街地の形成"}},
      {"g4-u",
       kContinue,
       {"令和3年度は、感染症対策を講じた"},
       {"地域まちづくり推進協議会を通じた"},
       {"安心安全な生活環境を維持し"}},
      {"g4-e",
       kContinue,
       {"北海道新幹線旭川延伸促進期成会"},
       {"引き続き、関係自治体と連携を図り"},
       {"旭川大雪圏域連携中枢都市圏において"}},
      {"g4-o",
       kContinue,
       {"市内発生状況や経済対策など"},
       {"誰もが閲覧しやすく、各項目において"},
       {"引き続き内容の充実を図り、SNS"}},
  };
  return *rows;
}

// ---------------------------------------------------------------------------
// Loading and helpers.

std::string MeasureName(const std::string& id) {
  return absl::StrCat(kStrategy, "/measures/", id);
}
std::string KpiName(const std::string& id) {
  return absl::StrCat(kStrategy, "/kpis/", id);
}
std::string GoalName(int number) {
  return absl::StrCat(kStrategy, "/goals/goal-", number);
}
std::string ObservationName(const std::string& kpi_id, int first, int year) {
  return absl::StrCat(
      KpiName(kpi_id), "/observations/fy",
      first != 0 ? absl::StrCat(first, "-", year) : absl::StrCat(year));
}

// Comparisons whose failure messages show Japanese text as text (gtest
// escapes it), doubles with every digit, and enums by name.
void Same(const std::string& field, const std::string& file,
          const std::string& table) {
  EXPECT_TRUE(file == table)
      << field << ": the file has \"" << file
      << "\", the hand transcription has \"" << table << "\"";
}
void Same(const std::string& field, double file, double table) {
  EXPECT_TRUE(file == table)
      << field << ": the file has " << absl::StrFormat("%.17g", file)
      << ", the hand transcription has " << absl::StrFormat("%.17g", table);
}
void Same(const std::string& field, int file, int table) {
  EXPECT_TRUE(file == table) << field << ": the file has " << file
                             << ", the hand transcription has " << table;
}
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
void Same(const std::string& field, E file, E table) {
  auto show = [](E v) {
    const auto* value =
        google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(v);
    return value != nullptr ? value->name() : absl::StrCat(static_cast<int>(v));
  };
  EXPECT_TRUE(file == table) << field << ": the file has " << show(file)
                             << ", the hand transcription has " << show(table);
}

class AsahikawaDatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dataset_ = new Dataset();
    const char* root = std::getenv("KPI_SOURCE_DIR");
    if (root == nullptr) {
      load_error_ = "KPI_SOURCE_DIR is not set; run through ctest";
      return;
    }
    const std::string path =
        absl::StrCat(root, "/lib/dataset/data/asahikawa-fy2021.json");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      load_error_ = absl::StrCat("cannot open ", path);
      return;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        buffer.str(), dataset_, options);
    if (!status.ok()) {
      load_error_ = absl::StrCat(path, ": ", status.ToString());
    }
  }
  static void TearDownTestSuite() {
    delete dataset_;
    dataset_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(load_error_.empty()) << load_error_; }

  const Dataset& data() const { return *dataset_; }

  template <typename Message>
  static std::map<std::string, const Message*> ByName(
      const google::protobuf::RepeatedPtrField<Message>& items) {
    std::map<std::string, const Message*> out;
    for (const Message& m : items) out.emplace(m.name(), &m);
    return out;
  }

  // The resource called `name`, or nullptr.
  template <typename Message>
  static const Message* Find(const std::map<std::string, const Message*>& map,
                             const std::string& name) {
    auto it = map.find(name);
    return it == map.end() ? nullptr : it->second;
  }

  static Dataset* dataset_;
  static std::string load_error_;
};

Dataset* AsahikawaDatasetTest::dataset_ = nullptr;
std::string AsahikawaDatasetTest::load_error_;

// ---------------------------------------------------------------------------
// Tests.

TEST_F(AsahikawaDatasetTest, Strategy) {
  ASSERT_EQ(data().strategies_size(), 1);
  const v1::Strategy& s = data().strategies(0);
  Same("name", s.name(), kStrategy);
  Same("display_name", s.display_name(),
       "第2期旭川市まち・ひと・しごと創生総合戦略");
  Same("municipality", s.municipality(), "旭川市");
  Same("municipality_code", s.municipality_code(), "012041");
  Same("first_fiscal_year", s.first_fiscal_year(), 2020);
  Same("last_fiscal_year", s.last_fiscal_year(), 2024);
  EXPECT_FALSE(s.english_name().empty());
  EXPECT_TRUE(absl::StrContains(s.source(), "令和3年度"))
      << "source does not name the FY2021 evaluation: " << s.source();
}

TEST_F(AsahikawaDatasetTest, StatutoryEmploymentRateTables) {
  struct Row {
    const char* name;
    const char* display_name;
    std::vector<std::pair<const char*, double>> values;
  };
  const Row rows[] = {
      {kPrivateRate,
       "法定雇用率(民間企業)",
       {{"2018-04-01", 2.2},
        {"2021-03-01", 2.3},
        {"2024-04-01", 2.5},
        {"2026-07-01", 2.7}}},
      {kGovernmentRate,
       "法定雇用率(国・地方公共団体)",
       {{"2018-04-01", 2.5},
        {"2021-03-01", 2.6},
        {"2024-04-01", 2.8},
        {"2026-07-01", 3.0}}},
  };
  auto refs = ByName(data().references());
  EXPECT_EQ(refs.size(), 2u);
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const v1::Reference* ref = Find(refs, row.name);
    ASSERT_TRUE(ref != nullptr) << row.name << " is missing from the file";
    Same("display_name", ref->display_name(), row.display_name);
    Same("unit", ref->unit(), "%");
    EXPECT_FALSE(ref->english_name().empty());
    EXPECT_FALSE(ref->source().empty());
    ASSERT_EQ(ref->values_size(), static_cast<int>(row.values.size()));
    for (int i = 0; i < ref->values_size(); ++i) {
      const std::string at = absl::StrCat("values[", i, "]");
      Same(at + ".effective_date", ref->values(i).effective_date(),
           row.values[i].first);
      Same(at + ".value", ref->values(i).value(), row.values[i].second);
    }
  }
}

TEST_F(AsahikawaDatasetTest, FourGoals) {
  ASSERT_EQ(data().goals_size(), 4);
  auto goals = ByName(data().goals());
  for (const GoalRow& row : kGoals) {
    const std::string name = GoalName(row.number);
    SCOPED_TRACE(name);
    const v1::Goal* goal = Find(goals, name);
    ASSERT_TRUE(goal != nullptr) << name << " is missing from the file";
    Same("number", goal->number(), row.number);
    Same("display_name", goal->display_name(), row.display_name);
    EXPECT_FALSE(goal->english_name().empty());
  }
}

TEST_F(AsahikawaDatasetTest, MeasureTree) {
  auto measures = ByName(data().measures());
  std::set<std::string> expected;
  for (const MeasureRow& row : kMeasures) {
    const std::string name = MeasureName(row.id);
    expected.insert(name);
    SCOPED_TRACE(name);
    const v1::Measure* m = Find(measures, name);
    ASSERT_TRUE(m != nullptr) << name << " is missing from the file";
    Same("goal", m->goal(), GoalName(row.goal));
    Same("parent", m->parent(),
         std::string(row.parent).empty() ? "" : MeasureName(row.parent));
    Same("code", m->code(), row.code);
    Same("display_name", m->display_name(), row.display_name);
    EXPECT_FALSE(m->english_name().empty());
  }
  for (const auto& [name, m] : measures) {
    EXPECT_TRUE(expected.count(name))
        << name << " is in the file but not in the hand transcription";
    if (m->parent().empty()) continue;
    // A sub-measure sits one level below a top-level heading of its goal,
    // and its code extends the heading's (エ → エ①).
    const v1::Measure* parent = Find(measures, m->parent());
    ASSERT_TRUE(parent != nullptr)
        << name << ": unknown parent " << m->parent();
    EXPECT_EQ(parent->parent(), "") << name << ": parent has a parent";
    EXPECT_EQ(parent->goal(), m->goal())
        << name << ": goal differs from parent";
    EXPECT_TRUE(absl::StartsWith(m->code(), parent->code()))
        << name << ": code " << m->code() << " under " << parent->code();
  }
  // Parent headings carry no KPI and no evaluation of their own ("—").
  for (const char* heading : {"g2-e", "g4-a"}) {
    for (const v1::Kpi& k : data().kpis()) {
      EXPECT_NE(k.measure(), MeasureName(heading)) << k.name();
    }
    for (const v1::Evaluation& e : data().evaluations()) {
      EXPECT_FALSE(absl::StartsWith(e.name(), MeasureName(heading) + "/"))
          << e.name();
    }
  }
}

TEST_F(AsahikawaDatasetTest, EveryKpiMatchesTheHandTranscription) {
  auto kpis = ByName(data().kpis());
  auto measures = ByName(data().measures());
  std::set<std::string> expected;
  for (const KpiRow& row : Kpis()) {
    const std::string name = KpiName(row.id);
    expected.insert(name);
    SCOPED_TRACE(name);
    const v1::Kpi* k = Find(kpis, name);
    ASSERT_TRUE(k != nullptr) << name << " is missing from the file";
    Same("measure", k->measure(), MeasureName(row.measure));
    const v1::Measure* m = Find(measures, k->measure());
    ASSERT_TRUE(m != nullptr) << "unknown measure " << k->measure();
    Same("measure code", m->code(), row.measure_code);
    Same("measure goal", m->goal(), GoalName(row.goal));
    Same("display_name", k->display_name(), row.display_name);
    Same("measurement_note", k->measurement_note(), row.measurement_note);
    Same("unit", k->unit(), row.unit);
    EXPECT_FALSE(k->english_name().empty());
    Same("kind", k->kind(), row.kind);
    Same("direction", k->direction(), v1::DIRECTION_INCREASE);
    Same("value_domain", k->value_domain(),
         std::string(row.unit) == "%" ? v1::VALUE_DOMAIN_PERCENT
                                      : v1::VALUE_DOMAIN_NON_NEGATIVE);
    Same("period_first_fiscal_year", k->period_first_fiscal_year(),
         row.kind == kPeriod ? 2020 : 0);
    Same("ordinal", k->ordinal(), row.ordinal);
    const std::vector<int> shocks(k->shock_fiscal_years().begin(),
                                  k->shock_fiscal_years().end());
    const std::vector<int> want_shocks =
        row.pandemic_shock ? std::vector<int>{2020, 2021} : std::vector<int>{};
    EXPECT_TRUE(shocks == want_shocks)
        << "shock_fiscal_years: the file has [" << absl::StrJoin(shocks, ", ")
        << "], the hand transcription has [" << absl::StrJoin(want_shocks, ", ")
        << "]";
    // Baseline.
    EXPECT_EQ(k->has_baseline(), row.baseline.present)
        << (row.baseline.present ? "baseline missing" : "unexpected baseline");
    if (row.baseline.present && k->has_baseline()) {
      const v1::Baseline& b = k->baseline();
      Same("baseline.value", b.value(), row.baseline.value);
      Same("baseline.fiscal_year", b.fiscal_year(), row.baseline.year);
      Same("baseline.first_fiscal_year", b.first_fiscal_year(),
           row.baseline.first_year);
      Same("baseline.aggregation", b.aggregation(),
           row.baseline.first_year != 0 ? v1::AGGREGATION_MEAN
                                        : v1::AGGREGATION_UNSPECIFIED);
      Same("baseline.label", b.label(), row.baseline.label);
    }
    // Target.
    ASSERT_TRUE(k->has_target()) << "target missing";
    const v1::Target& t = k->target();
    Same("target.fiscal_year", t.fiscal_year(), 2024);
    Same("target.label", t.label(), row.target.label);
    if (std::string(row.target.reference).empty()) {
      ASSERT_EQ(t.value_source_case(), v1::Target::kValue)
          << "target is not a number";
      Same("target.value", t.value(), row.target.value);
    } else {
      ASSERT_EQ(t.value_source_case(), v1::Target::kReference)
          << "target is not a reference";
      Same("target.reference", t.reference(), row.target.reference);
    }
  }
  for (const auto& [name, k] : kpis) {
    EXPECT_TRUE(expected.count(name))
        << name << " is in the file but not in the hand transcription";
  }
  EXPECT_EQ(kpis.size(), 30u);
}

TEST_F(AsahikawaDatasetTest, EveryObservationMatchesTheHandTranscription) {
  auto observations = ByName(data().observations());
  std::set<std::string> expected;
  for (const KpiRow& row : Kpis()) {
    for (const ObsRow& o : row.observations) {
      const std::string name = ObservationName(row.id, o.first_year, o.year);
      expected.insert(name);
      SCOPED_TRACE(name);
      const v1::Observation* got = Find(observations, name);
      ASSERT_TRUE(got != nullptr) << name << " is missing from the file";
      Same("fiscal_year", got->fiscal_year(), o.year);
      Same("first_fiscal_year", got->first_fiscal_year(), o.first_year);
      Same("aggregation", got->aggregation(),
           o.first_year != 0 ? v1::AGGREGATION_MEAN
                             : v1::AGGREGATION_UNSPECIFIED);
      Same("value", got->value(), o.value);
      Same("status", got->status(), o.status);
      Same("source_note", got->source_note(), o.note);
      Same("reported_fiscal_year", got->reported_fiscal_year(), 2021);
    }
  }
  for (const auto& [name, o] : observations) {
    EXPECT_TRUE(expected.count(name))
        << name << " is in the file but not in the hand transcription";
  }
  EXPECT_EQ(observations.size(), expected.size());
}

// Checks that `text` is the given cells joined by single spaces, by their
// starts, and that it ends a sentence (no cell cut short).
void CheckText(const std::string& field, const std::string& text,
               const std::vector<const char*>& starts) {
  if (starts.empty()) {
    EXPECT_TRUE(text.empty())
        << field << " should be empty (missing in the seed), is: " << text;
    return;
  }
  EXPECT_TRUE(absl::StartsWith(text, starts[0]))
      << field << " should start with \"" << starts[0] << "\", is: " << text;
  for (size_t i = 1; i < starts.size(); ++i) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("。 ", starts[i])))
        << field << " should contain a cell starting \"" << starts[i]
        << "\", is: " << text;
  }
  EXPECT_TRUE(absl::EndsWith(text, "。"))
      << field << " does not end a sentence: " << text;
  EXPECT_FALSE(absl::StrContains(text, "\t") || absl::StrContains(text, "\n"))
      << field << " has a tab or line break: " << text;
}

TEST_F(AsahikawaDatasetTest, EveryEvaluationMatchesTheHandTranscription) {
  auto evaluations = ByName(data().evaluations());
  std::set<std::string> expected;
  for (const EvaluationRow& row : Evaluations()) {
    const std::string name =
        absl::StrCat(MeasureName(row.measure), "/evaluations/fy2021");
    expected.insert(name);
    SCOPED_TRACE(name);
    const v1::Evaluation* e = Find(evaluations, name);
    ASSERT_TRUE(e != nullptr) << name << " is missing from the file";
    Same("fiscal_year", e->fiscal_year(), 2021);
    Same("rating", e->rating(), row.rating);
    CheckText("kpi_assessment", e->kpi_assessment(), row.assessment);
    CheckText("outlook", e->outlook(), row.outlook);
    CheckText("viewpoint", e->viewpoint(), row.viewpoint);
  }
  for (const auto& [name, e] : evaluations) {
    EXPECT_TRUE(expected.count(name))
        << name << " is in the file but not in the hand transcription";
  }
  // The flattened table repeats 基本目標2 ウ's texts; each text belongs to
  // exactly one measure.
  std::map<std::string, std::string> seen;
  for (const v1::Evaluation& e : data().evaluations()) {
    for (const std::string* text :
         {&e.kpi_assessment(), &e.outlook(), &e.viewpoint()}) {
      if (text->empty()) continue;
      auto [it, inserted] = seen.emplace(*text, e.name());
      EXPECT_TRUE(inserted) << "a text of " << e.name() << " repeats one of "
                            << it->second << ": " << *text;
    }
  }
}

TEST_F(AsahikawaDatasetTest, NamesAreUniqueAndReferencesResolve) {
  std::set<std::string> names;
  auto add = [&names](const std::string& name) {
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  };
  for (const auto& r : data().references()) add(r.name());
  for (const auto& s : data().strategies()) add(s.name());
  for (const auto& g : data().goals()) add(g.name());
  for (const auto& m : data().measures()) add(m.name());
  for (const auto& k : data().kpis()) add(k.name());
  for (const auto& o : data().observations()) add(o.name());
  for (const auto& e : data().evaluations()) add(e.name());

  auto resolves = [&names](const std::string& name) {
    return names.count(name) > 0;
  };
  for (const auto& g : data().goals()) {
    EXPECT_TRUE(absl::StartsWith(g.name(), absl::StrCat(kStrategy, "/")))
        << g.name();
  }
  for (const auto& m : data().measures()) {
    EXPECT_TRUE(resolves(m.goal())) << m.name() << " -> " << m.goal();
    if (!m.parent().empty()) {
      EXPECT_TRUE(resolves(m.parent())) << m.name() << " -> " << m.parent();
    }
  }
  std::set<std::string> measures_with_kpis;
  for (const auto& k : data().kpis()) {
    EXPECT_TRUE(resolves(k.measure())) << k.name() << " -> " << k.measure();
    measures_with_kpis.insert(k.measure());
    if (k.target().value_source_case() == v1::Target::kReference) {
      EXPECT_TRUE(resolves(k.target().reference()))
          << k.name() << " -> " << k.target().reference();
    }
  }
  for (const auto& o : data().observations()) {
    const std::string kpi =
        o.name().substr(0, o.name().rfind("/observations/"));
    EXPECT_TRUE(resolves(kpi)) << o.name() << ": unknown KPI";
    // The ID names the period.
    EXPECT_EQ(o.name(), absl::StrCat(kpi, "/observations/fy",
                                     o.first_fiscal_year() != 0
                                         ? absl::StrCat(o.first_fiscal_year(),
                                                        "-", o.fiscal_year())
                                         : absl::StrCat(o.fiscal_year())));
  }
  // Every measure with KPIs has its FY2021 evaluation, and only those.
  for (const auto& e : data().evaluations()) {
    const std::string measure =
        e.name().substr(0, e.name().rfind("/evaluations/"));
    EXPECT_TRUE(resolves(measure)) << e.name() << ": unknown measure";
    EXPECT_TRUE(measures_with_kpis.count(measure))
        << e.name() << ": measure has no KPI";
  }
  EXPECT_EQ(static_cast<size_t>(data().evaluations_size()),
            measures_with_kpis.size());
}

// Cross-checks within the file: each single-year or range baseline is also an
// observation, and the symbolic target resolves to the rate in force at the
// end of FY2024 (2.5% from April 2024).
TEST_F(AsahikawaDatasetTest, BaselinesAreObservationsAndTargetsResolve) {
  auto observations = ByName(data().observations());
  for (const v1::Kpi& k : data().kpis()) {
    if (!k.has_baseline()) continue;
    const std::string id = k.name().substr(k.name().rfind('/') + 1);
    const std::string name = ObservationName(
        id, k.baseline().first_fiscal_year(), k.baseline().fiscal_year());
    const v1::Observation* o = Find(observations, name);
    ASSERT_TRUE(o != nullptr) << "no observation for the baseline of "
                              << k.name() << " (" << name << ")";
    Same(name + ".value", o->value(), k.baseline().value());
  }
  auto refs = ByName(data().references());
  const v1::Reference* rate = Find(refs, kPrivateRate);
  ASSERT_TRUE(rate != nullptr);
  double in_force = 0;
  for (const v1::ReferenceValue& v : rate->values()) {
    if (v.effective_date() <= "2025-03-31") in_force = v.value();
  }
  EXPECT_EQ(in_force, 2.5);
}

}  // namespace
}  // namespace kpi::dataset
