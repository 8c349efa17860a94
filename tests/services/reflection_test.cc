// Server reflection as grpcurl and buf curl use it, through generated v1alpha
// stubs: every service listed, descriptors with their comments, the same
// descriptors the server's code was compiled from.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

// Sends `requests` on one stream; the responses, in order.
std::vector<ServerReflectionResponse> Ask(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::vector<ServerReflectionRequest>& requests) {
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  std::vector<ServerReflectionResponse> responses;
  for (const ServerReflectionRequest& request : requests) {
    EXPECT_TRUE(stream->Write(request));
    ServerReflectionResponse response;
    EXPECT_TRUE(stream->Read(&response));
    responses.push_back(response);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  return responses;
}

ServerReflectionRequest Symbol(const std::string& symbol) {
  ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  return request;
}

// The files of a response, by name.
std::map<std::string, google::protobuf::FileDescriptorProto> Files(
    const ServerReflectionResponse& response) {
  std::map<std::string, google::protobuf::FileDescriptorProto> files;
  for (const std::string& bytes :
       response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    files[file.name()] = file;
  }
  return files;
}

// The leading comment at `path` of `file`'s source info, or "".
std::string CommentAt(const google::protobuf::FileDescriptorProto& file,
                      const std::vector<int>& path) {
  for (const auto& location : file.source_code_info().location()) {
    if (std::vector<int>(location.path().begin(), location.path().end()) ==
        path) {
      return location.leading_comments();
    }
  }
  return "";
}

int IndexOfMessage(const google::protobuf::FileDescriptorProto& file,
                   const std::string& name) {
  for (int i = 0; i < file.message_type_size(); ++i) {
    if (file.message_type(i).name() == name) return i;
  }
  return -1;
}

int IndexOfField(const google::protobuf::DescriptorProto& message,
                 const std::string& name) {
  for (int i = 0; i < message.field_size(); ++i) {
    if (message.field(i).name() == name) return i;
  }
  return -1;
}

TEST(ReflectionTest, ListsEveryService) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  ServerReflectionRequest list;
  list.set_list_services("");
  list.set_host("localhost");
  const auto responses = Ask(server->channel(), {list});
  std::vector<std::string> names;
  for (const auto& s : responses[0].list_services_response().service()) {
    names.push_back(s.name());
  }
  EXPECT_THAT(names, ElementsAre("grpc.health.v1.Health",
                                 "grpc.reflection.v1alpha.ServerReflection",
                                 "kpi.v1.ForecastService", "kpi.v1.KpiService",
                                 "kpi.v1.ReportService"));
  EXPECT_EQ(responses[0].valid_host(), "localhost");
  EXPECT_EQ(responses[0].original_request().list_services(), "");
}

TEST(ReflectionTest, ServesFieldAndMethodComments) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  const auto responses =
      Ask(server->channel(),
          {Symbol("kpi.v1.Kpi"), Symbol("kpi.v1.ForecastService.ProjectKpi"),
           Symbol("kpi.v1.Series")});
  // The file of kpi.v1.Kpi, with its import, in one response.
  auto files = Files(responses[0]);
  ASSERT_TRUE(files.count("kpi/v1/resources.proto"));
  EXPECT_TRUE(files.count("google/protobuf/timestamp.proto"));
  const auto& resources = files["kpi/v1/resources.proto"];
  const int kpi = IndexOfMessage(resources, "Kpi");
  ASSERT_GE(kpi, 0);
  // message_type = 4, field = 2.
  EXPECT_THAT(CommentAt(resources, {4, kpi}),
              HasSubstr("A key performance indicator (重要業績評価指標)."));
  EXPECT_THAT(CommentAt(resources, {4, kpi, 2,
                                    IndexOfField(resources.message_type(kpi),
                                                 "display_name")}),
              HasSubstr("Name as written in Japanese, with its qualifiers"));

  // service = 6, method = 2.
  files = Files(responses[1]);
  ASSERT_TRUE(files.count("kpi/v1/forecast_service.proto"));
  EXPECT_THAT(CommentAt(files["kpi/v1/forecast_service.proto"], {6, 0, 2, 0}),
              HasSubstr("Projects one stored KPI to its target year"));
  // What `grpcurl describe kpi.v1.Series` prints beside each field.
  files = Files(responses[2]);
  const auto& forecast = files["kpi/v1/forecast_service.proto"];
  const int series = IndexOfMessage(forecast, "Series");
  ASSERT_GE(series, 0);
  EXPECT_THAT(CommentAt(forecast, {4, series, 2,
                                   IndexOfField(forecast.message_type(series),
                                                "horizon")}),
              HasSubstr("Years ahead of the last point to project"));
}

TEST(ReflectionTest, ServedFilesAreTheCompiledOnesPlusComments) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  std::vector<ServerReflectionRequest> requests;
  for (const char* name :
       {"kpi/v1/resources.proto", "kpi/v1/kpi_service.proto",
        "kpi/v1/forecast_service.proto", "google/rpc/status.proto",
        "google/rpc/error_details.proto", "grpc/health/v1/health.proto",
        "grpc/reflection/v1alpha/reflection.proto"}) {
    ServerReflectionRequest request;
    request.set_file_by_filename(name);
    requests.push_back(request);
  }
  const auto responses = Ask(server->channel(), requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string& name = requests[i].file_by_filename();
    auto files = Files(responses[i]);
    ASSERT_TRUE(files.count(name)) << name;
    google::protobuf::FileDescriptorProto served = files[name];
    EXPECT_GT(served.source_code_info().location_size(), 0) << name;
    served.clear_source_code_info();
    const google::protobuf::FileDescriptor* compiled =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(
            name);
    ASSERT_NE(compiled, nullptr) << name;
    google::protobuf::FileDescriptorProto expected;
    compiled->CopyTo(&expected);
    EXPECT_EQ(served.SerializeAsString(), expected.SerializeAsString())
        << name << "\nserved:\n"
        << served.DebugString().substr(0, 2000);
  }
}

TEST(ReflectionTest, UnknownNamesAreErrorsAndTheStreamGoesOn) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  ServerReflectionRequest file;
  file.set_file_by_filename("kpi/v1/nope.proto");
  ServerReflectionRequest extension;
  extension.mutable_file_containing_extension()->set_containing_type(
      "kpi.v1.Kpi");
  extension.mutable_file_containing_extension()->set_extension_number(100);
  ServerReflectionRequest numbers;
  numbers.set_all_extension_numbers_of_type("kpi.v1.Kpi");
  const auto responses =
      Ask(server->channel(), {Symbol("kpi.v1.NoSuchService"), file, extension,
                              numbers, Symbol("grpc.health.v1.Health")});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(responses[i].error_response().error_code(),
              static_cast<int>(grpc::StatusCode::NOT_FOUND))
        << i;
  }
  EXPECT_EQ(responses[3].all_extension_numbers_response().base_type_name(),
            "kpi.v1.Kpi");
  EXPECT_EQ(
      responses[3].all_extension_numbers_response().extension_number_size(), 0);
  EXPECT_THAT(Files(responses[4]),
              IsSupersetOf({::testing::Key("grpc/health/v1/health.proto")}));
}

}  // namespace
}  // namespace kpi::services::testing
