#ifndef KPI_SERVICES_SERVER_SERVED_DESCRIPTORS_H_
#define KPI_SERVICES_SERVER_SERVED_DESCRIPTORS_H_

// The descriptors of every .proto file the server serves, with their
// comments: a serialized google.protobuf.FileDescriptorSet that protoc made
// with --include_imports --include_source_info at build time
// (services/server/CMakeLists.txt), compiled into the binary.

#include <string_view>

namespace kpi::services {

// The serialized FileDescriptorSet, files in dependency order. Thread-safe;
// the storage is static.
std::string_view ServedDescriptorSet();

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_SERVED_DESCRIPTORS_H_
