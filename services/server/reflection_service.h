#ifndef KPI_SERVICES_SERVER_REFLECTION_SERVICE_H_
#define KPI_SERVICES_SERVER_REFLECTION_SERVICE_H_

// grpc.reflection.v1alpha.ServerReflection, serving the contracts with their
// documentation. gRPC's own reflection plugin (1.51, as Debian ships it)
// answers from the descriptors compiled into the generated code, which
// protoc writes without comments, so `grpcurl describe kpi.v1.Series` would
// show bare fields. This service answers from a descriptor set built with
// source info (served_descriptors.h): every message, field, enum value,
// service and method carries its comment, and clients (grpcurl, buf curl,
// Python and Node reflection clients) see the same file descriptors as
// before, plus their source_code_info.
//
// Thread-safe: each stream is handled on its own thread, and the descriptor
// pool is immutable after Create.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace kpi::services {

class ReflectionService final
    : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  // `descriptor_set`: a serialized FileDescriptorSet, every file after its
  // imports. `services`: the full names list_services reports; each must be
  // a service of the set. INVALID_ARGUMENT when the set does not parse or
  // build, or a service is missing from it.
  static absl::StatusOr<std::unique_ptr<ReflectionService>> Create(
      std::string_view descriptor_set, std::vector<std::string> services);

  // Answers each request of the stream in turn, until the client closes it.
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<
          grpc::reflection::v1alpha::ServerReflectionResponse,
          grpc::reflection::v1alpha::ServerReflectionRequest>* stream) override;

 private:
  ReflectionService() = default;

  // The response to one request.
  grpc::reflection::v1alpha::ServerReflectionResponse Answer(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request) const;

  // Adds `file` and its imports not yet in `response` (a client builds its
  // own pool from them).
  void AddFileWithImports(
      const google::protobuf::FileDescriptor* file,
      grpc::reflection::v1alpha::FileDescriptorResponse* response,
      std::vector<const google::protobuf::FileDescriptor*>* added) const;

  google::protobuf::DescriptorPool pool_;
  // Serialized FileDescriptorProto of each file, with source info.
  absl::flat_hash_map<std::string, std::string> serialized_;
  std::vector<std::string> services_;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_REFLECTION_SERVICE_H_
