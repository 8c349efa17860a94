#ifndef KPI_LIB_I18N_EXPLANATION_H_
#define KPI_LIB_I18N_EXPLANATION_H_

// Puts a projection's explanation (forecast::Explanation) into words, in
// Japanese or English, through the message catalogue: a short paragraph for
// a reader (the projection, the trend beside it, the shock scenario, the
// pace needed and observed, the probability in words, and, where status and
// probability point different ways, why) and a one-line summary for tables.
// Plain C++ (no gRPC): the API, kpictl and the reports use the same text.
// Pure functions; thread-safe.

#include <string>

#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"

namespace kpi::i18n {

// The paragraph, e.g. (en) "The projection for FY2024 (R6) is 61% (median;
// 80% interval 57.3 to 64.6). The trend of the 3 points used (FY2015 to
// FY2019, +1.1 a year), continued, would reach 65.3% in FY2024. ...".
// Sentences follow each other without line breaks.
std::string ExplanationText(const forecast::Projection& projection,
                            Language language);

// One line: the likelihood words with the probability, then the most
// important reason (why status and probability differ, else the shock
// scenario, else the trend), e.g. "unlikely (14%); a 3-point trend is kept
// at 45%, as similar series did".
std::string ExplanationSummary(const forecast::Projection& projection,
                               Language language);

}  // namespace kpi::i18n

#endif  // KPI_LIB_I18N_EXPLANATION_H_
