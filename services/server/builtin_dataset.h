#ifndef KPI_SERVICES_SERVER_BUILTIN_DATASET_H_
#define KPI_SERVICES_SERVER_BUILTIN_DATASET_H_

// The Asahikawa dataset (lib/dataset/data/asahikawa-fy2021.json), compiled
// into the binary so that kpi_server can seed an empty store with no file
// at run time.

#include <string_view>

namespace kpi::services {

// The JSON text of a kpi.v1.Dataset (protobuf JSON mapping). Thread-safe;
// the storage is static.
std::string_view BuiltinDatasetJson();

// The source file it was made from, relative to the repository root.
std::string_view BuiltinDatasetSource();

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_BUILTIN_DATASET_H_
