// Authentication and roles (services/server/auth.h): the tokens file, the
// method table against every method the server serves, and each role
// boundary through a real in-process server.

#include "services/server/auth.h"

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

std::string HexDigest(std::string_view token) {
  const Digest digest = Sha256(token);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// ---- The tokens file -------------------------------------------------------

TEST(TokenTableTest, ParsesLinesCommentsAndBlankLines) {
  const std::string text = absl::StrCat(
      "# kpi_server tokens\n\n", "reader ", HexDigest("r-token"),
      " city-portal\n", "  writer\t", HexDigest("w-token"),
      "  統計課  \n",  // labels may be Japanese
      "admin ", absl::AsciiStrToUpper(HexDigest("a-token")), " it-admin\n");
  absl::StatusOr<TokenTable> table = TokenTable::Parse(text, "tokens.txt");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 3u);
  const TokenEntry* reader = table->Find("r-token");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->role, Role::kReader);
  EXPECT_EQ(reader->label, "city-portal");
  const TokenEntry* writer = table->Find("w-token");
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->role, Role::kWriter);
  EXPECT_EQ(writer->label, "統計課");
  // sha256sum prints lower case; upper case is the same digest.
  const TokenEntry* admin = table->Find("a-token");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->role, Role::kAdmin);
  EXPECT_EQ(table->Find("r-token\n"), nullptr);
  EXPECT_EQ(table->Find(""), nullptr);
  EXPECT_EQ(table->Find("R-TOKEN"), nullptr);
}

TEST(TokenTableTest, SameLabelForTwoTokensWhileAClientChangesOver) {
  absl::StatusOr<TokenTable> table = TokenTable::Parse(
      absl::StrCat("writer ", HexDigest("old"), " batch\nwriter ",
                   HexDigest("new"), " batch\n"),
      "t");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_NE(table->Find("old"), nullptr);
  EXPECT_NE(table->Find("new"), nullptr);
}

TEST(TokenTableTest, RejectsBadLinesNamingTheLine) {
  const std::string digest = HexDigest("x");
  const struct {
    std::string text;
    std::string message;
  } kCases[] = {
      {absl::StrCat("reader ", digest), "t line 1: 2 fields"},
      {absl::StrCat("# c\nreader ", digest, " a b"), "t line 2: 4 fields"},
      {absl::StrCat("owner ", digest, " a"), "unknown role \"owner\""},
      {absl::StrCat("Reader ", digest, " a"), "unknown role \"Reader\""},
      {"reader abc a", "not 64 hex digits"},
      {absl::StrCat("reader ", digest.substr(1), "g a"), "not 64 hex digits"},
      {absl::StrCat("reader ", digest, " ", std::string(200, 'l')),
       "longer than 128 bytes"},
      {absl::StrCat("reader ", digest, " a\x01"), "control characters"},
      {absl::StrCat("reader ", digest, " a\nadmin ", digest, " b"),
       "t line 2: the digest is also on line 1"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<TokenTable> table = TokenTable::Parse(c.text, "t");
    EXPECT_THAT(table.status(),
                ::kpi::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr(c.message)))
        << c.text;
    if (!table.ok()) {
      EXPECT_THAT(std::string(table.status().message()),
                  HasSubstr("accepted: ROLE SHA256_HEX LABEL"));
    }
  }
}

TEST(TokenTableTest, MissingFileIsNotFound) {
  EXPECT_THAT(TokenTable::ReadFile("/nonexistent/tokens.txt").status(),
              ::kpi::testing::StatusIs(absl::StatusCode::kNotFound,
                                       HasSubstr("/nonexistent/tokens.txt")));
}

// A lookup compares the digest with every entry, whichever matches, so its
// time does not depend on which token was sent or how close it came.
TEST(TokenTableTest, LookupComparesEveryEntryInConstantTime) {
  std::string text;
  for (int i = 0; i < 5; ++i) {
    absl::StrAppend(&text, "reader ", HexDigest(absl::StrCat("t", i)), " l", i,
                    "\n");
  }
  absl::StatusOr<TokenTable> table = TokenTable::Parse(text, "t");
  ASSERT_TRUE(table.ok());
  for (const char* token : {"t0", "t4", "unknown"}) {
    TokenTable::LookupStats stats;
    table->Find(token, &stats);
    EXPECT_EQ(stats.comparisons, 5) << token;
  }
}

TEST(TokenTableTest, DigestsEqualComparesEveryByte) {
  const Digest a = Sha256("a");
  Digest first = a;
  first[0] ^= 1;
  Digest last = a;
  last[31] ^= 0x80;
  EXPECT_TRUE(DigestsEqual(a, Sha256("a")));
  EXPECT_FALSE(DigestsEqual(a, first));
  EXPECT_FALSE(DigestsEqual(a, last));
  EXPECT_EQ(HexDigest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ---- The method table ------------------------------------------------------

// The full names ("/pkg.Service/Method") of every method of every service
// the server says it serves (reflection), from the services' descriptors.
std::vector<std::string> ServedMethods(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  EXPECT_TRUE(stream->Write(request));
  EXPECT_TRUE(stream->Read(&response));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  std::vector<std::string> methods;
  for (const auto& service : response.list_services_response().service()) {
    const google::protobuf::ServiceDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service.name());
    EXPECT_NE(descriptor, nullptr) << service.name();
    if (descriptor == nullptr) continue;
    for (int m = 0; m < descriptor->method_count(); ++m) {
      methods.push_back(absl::StrCat("/", descriptor->full_name(), "/",
                                     descriptor->method(m)->name()));
    }
  }
  return methods;
}

TEST(MethodTableTest, EveryServedMethodHasARoleAndNoOtherIsListed) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> served = ServedMethods(server->channel());
  ASSERT_GE(served.size(), 45u);
  for (const std::string& method : served) {
    EXPECT_NE(FindMethodRule(method), nullptr)
        << method << " is served but missing from kMethodRules "
        << "(services/server/auth.cc): no one may call it until it gets a role";
  }
  std::vector<std::string> listed;
  for (const MethodRule& rule : MethodRules()) {
    listed.emplace_back(rule.method);
  }
  EXPECT_THAT(listed, UnorderedElementsAreArray(served));
}

TEST(MethodTableTest, RolesAsTheIssueStates) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  const google::protobuf::ServiceDescriptor* kpi =
      pool->FindServiceByName("kpi.v1.KpiService");
  ASSERT_NE(kpi, nullptr);
  for (int m = 0; m < kpi->method_count(); ++m) {
    const std::string name = kpi->method(m)->name();
    const MethodRule* rule =
        FindMethodRule(absl::StrCat("/kpi.v1.KpiService/", name));
    ASSERT_NE(rule, nullptr) << name;
    ASSERT_TRUE(rule->role.has_value()) << name;
    Role expected = Role::kWriter;
    if (name == "ListChanges") {
      expected = Role::kAdmin;  // the change log names every writer
    } else if (absl::StartsWith(name, "Get") ||
               absl::StartsWith(name, "List") || name == "ExportDataset") {
      expected = Role::kReader;
    } else if (absl::StartsWith(name, "Delete") ||
               absl::EndsWith(name, "Reference")) {
      expected = Role::kAdmin;
    }
    EXPECT_EQ(*rule->role, expected) << name;
  }
  const google::protobuf::ServiceDescriptor* forecast =
      pool->FindServiceByName("kpi.v1.ForecastService");
  ASSERT_NE(forecast, nullptr);
  for (int m = 0; m < forecast->method_count(); ++m) {
    const std::string name = forecast->method(m)->name();
    const MethodRule* rule =
        FindMethodRule(absl::StrCat("/kpi.v1.ForecastService/", name));
    ASSERT_NE(rule, nullptr) << name;
    // Calibrating the store changes every replica's projections: admin.
    EXPECT_EQ(rule->role,
              name == "CalibrateStore" ? Role::kAdmin : Role::kReader)
        << name;
  }
  EXPECT_EQ(FindMethodRule("/grpc.health.v1.Health/Check")->role, std::nullopt);
  EXPECT_EQ(FindMethodRule("/kpi.v1.KpiService/Nope"), nullptr);
}

// ---- Calls through a server with tokens -----------------------------------

constexpr char kReaderToken[] = "reader-token-1b9f";
constexpr char kWriterToken[] = "writer-token-77ae";
constexpr char kAdminToken[] = "admin-token-c3d0";

class AuthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kpi_auth_test_XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    tokens_file_ = (dir_ / "tokens.txt").string();
    WriteTokens(absl::StrCat("reader ", HexDigest(kReaderToken),
                             " city-portal\n", "writer ",
                             HexDigest(kWriterToken), " stats-office\n",
                             "admin ", HexDigest(kAdminToken), " it-admin\n"));
    AuthOptions auth;
    auth.tokens_file = tokens_file_;
    auth.log_sink = [this](std::string_view line) {
      absl::MutexLock lock(&mu_);
      auth_log_.emplace_back(line);
    };
    absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
        Authorizer::Create(std::move(auth));
    ASSERT_TRUE(authorizer.ok()) << authorizer.status();
    authorizer_ = *std::move(authorizer);
    ServerOptions options;
    options.authorizer = authorizer_.get();
    server_ = TestServer::Start(std::move(options));
    ASSERT_NE(server_, nullptr);
    ImportAs(kAdminToken, kTestDatasetJson);
  }

  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void WriteTokens(const std::string& text) {
    std::ofstream(tokens_file_, std::ios::trunc) << text;
  }

  std::vector<std::string> auth_log() {
    absl::MutexLock lock(&mu_);
    return auth_log_;
  }

  // A unary call with `authorization` values (none for an empty list).
  template <typename Stub, typename Request, typename Response>
  grpc::Status CallWith(const std::vector<std::string>& authorization,
                        Stub& stub,
                        grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                     const Request&, Response*),
                        const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    for (const std::string& value : authorization) {
      context.AddMetadata("authorization", value);
    }
    return (stub.*method)(&context, request, response);
  }
  template <typename Stub, typename Request, typename Response>
  grpc::Status CallAs(const char* token, Stub& stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                   const Request&, Response*),
                      const Request& request, Response* response) {
    return CallWith({absl::StrCat("Bearer ", token)}, stub, method, request,
                    response);
  }

  grpc::Status ImportAs(const char* token, std::string_view json) {
    absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(json);
    EXPECT_TRUE(dataset.ok()) << dataset.status();
    v1::ImportDatasetRequest request;
    *request.mutable_dataset() = *dataset;
    v1::ImportDatasetResponse response;
    return CallAs(token, server_->kpi(), &v1::KpiService::Stub::ImportDataset,
                  request, &response);
  }

  grpc::Status ListKpisWith(const std::vector<std::string>& authorization) {
    v1::ListKpisRequest request;
    request.set_parent("strategies/s");
    v1::ListKpisResponse response;
    return CallWith(authorization, server_->kpi(),
                    &v1::KpiService::Stub::ListKpis, request, &response);
  }

  // `method` on a raw stream with one empty message: the status, whatever
  // the method's kind (unary, streaming, callback).
  grpc::Status RawCall(const std::string& method, const char* token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(1500));
    if (token != nullptr) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    const grpc::internal::RpcMethod rpc(
        method.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING);
    auto stream = std::unique_ptr<
        grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
        grpc::internal::ClientReaderWriterFactory<
            grpc::ByteBuffer,
            grpc::ByteBuffer>::Create(server_->channel().get(), rpc, &context));
    grpc::Slice empty("");
    grpc::ByteBuffer message(&empty, 1);
    stream->Write(message);
    stream->WritesDone();
    grpc::ByteBuffer in;
    while (stream->Read(&in)) {
    }
    return stream->Finish();
  }

  std::filesystem::path dir_;
  std::string tokens_file_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<TestServer> server_;
  absl::Mutex mu_;
  std::vector<std::string> auth_log_ ABSL_GUARDED_BY(mu_);
};

TEST_F(AuthServerTest, NoTokenIsUnauthenticated) {
  const grpc::Status status = ListKpisWith({});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("send the metadata \"authorization: Bearer TOKEN\""));
}

TEST_F(AuthServerTest, UnknownTokenIsUnauthenticated) {
  const grpc::Status status = ListKpisWith({"Bearer not-a-known-token"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown or revoked"));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("not-a-known-token")));
}

// RFC 7235: the authentication scheme is case-insensitive, so "bearer" is
// the Bearer scheme; anything else is refused.
TEST_F(AuthServerTest, SchemeIsCaseInsensitiveAndOnlyBearer) {
  EXPECT_TRUE(ListKpisWith({absl::StrCat("bearer ", kReaderToken)}).ok());
  EXPECT_TRUE(ListKpisWith({absl::StrCat("BEARER ", kReaderToken)}).ok());
  for (const std::string& value :
       {absl::StrCat("Basic ", kReaderToken), std::string(kReaderToken),
        std::string("Bearer"), std::string("Bearer "),
        absl::StrCat("Bearer  ", kReaderToken),
        absl::StrCat("Bearer ", kReaderToken, " ")}) {
    EXPECT_EQ(ListKpisWith({value}).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << value;
  }
}

TEST_F(AuthServerTest, TwoAuthorizationValuesAreUnauthenticated) {
  const grpc::Status status =
      ListKpisWith({absl::StrCat("Bearer ", kAdminToken),
                    absl::StrCat("Bearer ", kReaderToken)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("send exactly one"));
}

TEST_F(AuthServerTest, ReaderReadsAndProjectsButCannotWrite) {
  EXPECT_TRUE(ListKpisWith({absl::StrCat("Bearer ", kReaderToken)}).ok());
  v1::ProjectKpiRequest project;
  project.set_name("strategies/s/kpis/share");
  v1::ProjectKpiResponse projection;
  EXPECT_TRUE(CallAs(kReaderToken, server_->forecast(),
                     &v1::ForecastService::Stub::ProjectKpi, project,
                     &projection)
                  .ok());
  v1::ExportDatasetRequest export_request;
  v1::ExportDatasetResponse exported;
  EXPECT_TRUE(CallAs(kReaderToken, server_->kpi(),
                     &v1::KpiService::Stub::ExportDataset, export_request,
                     &exported)
                  .ok());

  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/share");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(46);
  v1::Observation created;
  const grpc::Status status =
      CallAs(kReaderToken, server_->kpi(),
             &v1::KpiService::Stub::CreateObservation, create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("/kpi.v1.KpiService/CreateObservation needs role "
                        "writer; the caller (city-portal) has role reader"));
  EXPECT_EQ(ImportAs(kReaderToken, kTestDatasetJson).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The refused call never ran.
  v1::GetObservationRequest get;
  get.set_name("strategies/s/kpis/share/observations/fy2022");
  v1::Observation observation;
  EXPECT_EQ(CallAs(kAdminToken, server_->kpi(),
                   &v1::KpiService::Stub::GetObservation, get, &observation)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AuthServerTest, WriterWritesButCannotDelete) {
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(
      "strategies/s/kpis/share/observations/fy2021");
  update.mutable_observation()->set_value(45);
  update.mutable_update_mask()->add_paths("value");
  update.set_reason("corrected");
  v1::Observation updated;
  ASSERT_TRUE(CallAs(kWriterToken, server_->kpi(),
                     &v1::KpiService::Stub::UpdateObservation, update, &updated)
                  .ok());
  EXPECT_EQ(updated.value(), 45);

  v1::DeleteKpiRequest del;
  del.set_name("strategies/s/kpis/share");
  del.set_force(true);
  google::protobuf::Empty empty;
  const grpc::Status status =
      CallAs(kWriterToken, server_->kpi(), &v1::KpiService::Stub::DeleteKpi,
             del, &empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("needs role admin"));
  v1::GetKpiRequest get;
  get.set_name("strategies/s/kpis/share");
  v1::Kpi kpi;
  EXPECT_TRUE(CallAs(kWriterToken, server_->kpi(),
                     &v1::KpiService::Stub::GetKpi, get, &kpi)
                  .ok());
  // An admin may.
  EXPECT_TRUE(CallAs(kAdminToken, server_->kpi(),
                     &v1::KpiService::Stub::DeleteKpi, del, &empty)
                  .ok());
}

TEST_F(AuthServerTest, CallbackAndStreamingMethodsAreCheckedToo) {
  // ProjectKpi is a callback method.
  v1::ProjectKpiRequest project;
  project.set_name("strategies/s/kpis/share");
  v1::ProjectKpiResponse projection;
  EXPECT_EQ(
      CallWith({}, server_->forecast(), &v1::ForecastService::Stub::ProjectKpi,
               project, &projection)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  // StreamProjectSeries is a bidirectional stream.
  grpc::ClientContext context;
  auto stream = server_->forecast().StreamProjectSeries(&context);
  v1::StreamProjectSeriesRequest chunk;
  stream->Write(chunk);
  stream->WritesDone();
  v1::StreamProjectSeriesResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServerTest, HealthAndReflectionAreOpen) {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(CallWith({}, server_->health(),
                       &grpc::health::v1::Health::Stub::Check, request,
                       &response)
                  .ok());
  EXPECT_TRUE(CallWith({"Bearer wrong"}, server_->health(),
                       &grpc::health::v1::Health::Stub::Check, request,
                       &response)
                  .ok());
  EXPECT_THAT(ServedMethods(server_->channel()), Not(IsEmpty()));
}

// Every method the server serves, called by no one, a reader, a writer and
// an admin: refused exactly below the role of kMethodRules, so a method
// that is served is enforced as the table says.
TEST_F(AuthServerTest, EveryMethodEnforcesItsRole) {
  const std::vector<std::string> methods = ServedMethods(server_->channel());
  ASSERT_GE(methods.size(), 45u);
  const struct {
    const char* token;
    int level;  // 0 none, else the Role's value
  } kCallers[] = {
      {nullptr, 0}, {kReaderToken, 1}, {kWriterToken, 2}, {kAdminToken, 3}};
  for (const std::string& method : methods) {
    const MethodRule* rule = FindMethodRule(method);
    ASSERT_NE(rule, nullptr) << method;
    const int needed =
        rule->role.has_value() ? static_cast<int>(*rule->role) : 0;
    for (const auto& caller : kCallers) {
      const grpc::Status status = RawCall(method, caller.token);
      SCOPED_TRACE(absl::StrCat(method, " as level ", caller.level, ": ",
                                status.error_code(), " ",
                                status.error_message()));
      if (caller.level >= needed) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
      } else if (caller.level == 0) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        EXPECT_THAT(status.error_message(),
                    HasSubstr(absl::StrCat(
                        "needs role ", std::string(RoleName(*rule->role)))));
      }
    }
  }
}

TEST_F(AuthServerTest, WriterImportsReferencesOnlyAsStored) {
  // The test dataset as stored (references included): allowed.
  EXPECT_TRUE(ImportAs(kWriterToken, kTestDatasetJson).ok());
  // A changed reference table is an admin's.
  std::string changed = kTestDatasetJson;
  const std::string from = "\"value\": 2.5}";
  changed.replace(changed.find(from), from.size(), "\"value\": 2.7}");
  const grpc::Status status = ImportAs(kWriterToken, changed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("dataset.references[0]: creating or changing "
                        "reference table references/rate needs role admin"));
  EXPECT_TRUE(ImportAs(kAdminToken, changed).ok());
}

TEST_F(AuthServerTest, ReloadSwapsTokensAndKeepsThemOnABadFile) {
  const std::string kNewToken = "new-reader-token";
  EXPECT_EQ(ListKpisWith({absl::StrCat("Bearer ", kNewToken)}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The reader's token is revoked, a new one added.
  WriteTokens(absl::StrCat("reader ", HexDigest(kNewToken), " new-portal\n",
                           "admin ", HexDigest(kAdminToken), " it-admin\n"));
  absl::StatusOr<size_t> reloaded = authorizer_->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(*reloaded, 2u);
  EXPECT_TRUE(ListKpisWith({absl::StrCat("Bearer ", kNewToken)}).ok());
  EXPECT_EQ(ListKpisWith({absl::StrCat("Bearer ", kReaderToken)}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A bad file keeps the tokens in use and says why.
  WriteTokens("reader not-hex broken\n");
  EXPECT_THAT(authorizer_->Reload().status(),
              ::kpi::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(ListKpisWith({absl::StrCat("Bearer ", kNewToken)}).ok());
  std::filesystem::remove(tokens_file_);
  EXPECT_THAT(authorizer_->Reload().status(),
              ::kpi::testing::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(ListKpisWith({absl::StrCat("Bearer ", kNewToken)}).ok());
  const std::vector<std::string> log = auth_log();
  EXPECT_THAT(log, ::testing::Contains(HasSubstr("reloaded")));
  EXPECT_THAT(log, ::testing::Contains(HasSubstr(
                       "failed, keeping the 2 tokens in use: " + tokens_file_ +
                       " line 1")));
}

TEST_F(AuthServerTest, RefusalsAreLoggedWithoutTheToken) {
  ListKpisWith({"Bearer secret-guess"}).IgnoreError();
  v1::DeleteStrategyRequest del;
  del.set_name("strategies/s");
  google::protobuf::Empty empty;
  CallAs(kReaderToken, server_->kpi(), &v1::KpiService::Stub::DeleteStrategy,
         del, &empty)
      .IgnoreError();
  const std::vector<std::string> log = auth_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], HasSubstr("auth: /kpi.v1.KpiService/ListKpis "
                                "UNAUTHENTICATED"));
  EXPECT_THAT(log[0], Not(HasSubstr("secret-guess")));
  EXPECT_EQ(log[1],
            "auth: /kpi.v1.KpiService/DeleteStrategy PERMISSION_DENIED: "
            "city-portal has role reader, needs admin");
}

}  // namespace
}  // namespace kpi::services::testing
