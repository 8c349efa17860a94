#include "services/server/reflection_service.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"

namespace kpi::services {
namespace {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

void SetError(grpc::StatusCode code, std::string message,
              ServerReflectionResponse* response) {
  response->mutable_error_response()->set_error_code(static_cast<int>(code));
  response->mutable_error_response()->set_error_message(std::move(message));
}

// protoc's default JSON name of a field: lowerCamelCase of its name.
std::string DefaultJsonName(const std::string& name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      upper = false;
    }
  }
  return out;
}

void ClearDefaultJsonNames(
    google::protobuf::RepeatedPtrField<google::protobuf::FieldDescriptorProto>*
        fields) {
  for (auto& field : *fields) {
    if (field.json_name() == DefaultJsonName(field.name())) {
      field.clear_json_name();
    }
  }
}

void ClearDefaultJsonNames(google::protobuf::DescriptorProto* message) {
  ClearDefaultJsonNames(message->mutable_field());
  ClearDefaultJsonNames(message->mutable_extension());
  for (auto& nested : *message->mutable_nested_type()) {
    ClearDefaultJsonNames(&nested);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReflectionService>> ReflectionService::Create(
    std::string_view descriptor_set, std::vector<std::string> services) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(descriptor_set.data(),
                          static_cast<int>(descriptor_set.size()))) {
    return absl::InvalidArgumentError(
        "the served descriptor set does not parse as a FileDescriptorSet");
  }
  std::unique_ptr<ReflectionService> service(new ReflectionService());
  for (google::protobuf::FileDescriptorProto& file : *set.mutable_file()) {
    // protoc's descriptor sets spell out every field's JSON name; the
    // descriptors compiled into generated code (what gRPC's reflection
    // serves, and what clients compare with) name only those that differ
    // from the default.
    for (auto& message : *file.mutable_message_type()) {
      ClearDefaultJsonNames(&message);
    }
    ClearDefaultJsonNames(file.mutable_extension());
    if (service->pool_.BuildFile(file) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("the served descriptor set does not build at ",
                       file.name(), " (are its imports before it?)"));
    }
    // Served as protoc wrote it, comments included.
    service->serialized_[file.name()] = file.SerializeAsString();
  }
  for (const std::string& name : services) {
    if (service->pool_.FindServiceByName(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "service ", name, " is not in the served descriptor set"));
    }
  }
  std::sort(services.begin(), services.end());
  service->services_ = std::move(services);
  return service;
}

grpc::Status ReflectionService::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>*
        stream) {
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (context->IsCancelled()) break;
    if (!stream->Write(Answer(request))) break;
  }
  return grpc::Status::OK;
}

ServerReflectionResponse ReflectionService::Answer(
    const ServerReflectionRequest& request) const {
  ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  std::vector<const google::protobuf::FileDescriptor*> added;
  const auto files = [&](const google::protobuf::FileDescriptor* file) {
    AddFileWithImports(file, response.mutable_file_descriptor_response(),
                       &added);
  };
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        response.mutable_list_services_response()->add_service()->set_name(
            name);
      }
      break;
    case ServerReflectionRequest::kFileByFilename: {
      const google::protobuf::FileDescriptor* file =
          pool_.FindFileByName(request.file_by_filename());
      if (file == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND, "File not found.", &response);
      } else {
        files(file);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingSymbol: {
      const google::protobuf::FileDescriptor* file =
          pool_.FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND, "Symbol not found.", &response);
      } else {
        files(file);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& wanted = request.file_containing_extension();
      const google::protobuf::Descriptor* type =
          pool_.FindMessageTypeByName(wanted.containing_type());
      const google::protobuf::FieldDescriptor* extension =
          type == nullptr
              ? nullptr
              : pool_.FindExtensionByNumber(type, wanted.extension_number());
      if (extension == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND, "Extension not found.",
                 &response);
      } else {
        files(extension->file());
      }
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const google::protobuf::Descriptor* type =
          pool_.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND, "Type not found.", &response);
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool_.FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* e : extensions)
        numbers->add_extension_number(e->number());
      break;
    }
    default:
      SetError(grpc::StatusCode::UNIMPLEMENTED, "The request is not supported.",
               &response);
  }
  return response;
}

void ReflectionService::AddFileWithImports(
    const google::protobuf::FileDescriptor* file,
    grpc::reflection::v1alpha::FileDescriptorResponse* response,
    std::vector<const google::protobuf::FileDescriptor*>* added) const {
  if (std::find(added->begin(), added->end(), file) != added->end()) return;
  added->push_back(file);
  auto it = serialized_.find(file->name());
  if (it != serialized_.end()) {
    response->add_file_descriptor_proto(it->second);
  }
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileWithImports(file->dependency(i), response, added);
  }
}

}  // namespace kpi::services
