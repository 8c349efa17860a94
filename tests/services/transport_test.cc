// Transport security (services/server/credentials.h): TLS and mutual TLS
// with certificates made by openssl, their reload, and plaintext refused on
// addresses other machines can reach.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "services/server/auth.h"
#include "services/server/credentials.h"
#include "tests/services/test_certs.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

// A channel of its own (no connection shared with other channels), with TLS
// when `ca` is not empty; `cert`/`key` are a client certificate's files.
std::shared_ptr<grpc::Channel> Dial(const std::string& address,
                                    const TestCertificates* certs,
                                    const std::string& ca,
                                    const std::string& cert = "",
                                    const std::string& key = "") {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = certs->Read(ca);
    if (!cert.empty()) {
      ssl.pem_cert_chain = certs->Read(cert);
      ssl.pem_private_key = certs->Read(key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

grpc::Status ListStrategies(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& token = "") {
  auto stub = v1::KpiService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  if (!token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  v1::ListStrategiesResponse response;
  return stub->ListStrategies(&context, v1::ListStrategiesRequest(), &response);
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = TestCertificates::Make();
    ASSERT_NE(certs_, nullptr);
    store_ = TestServer::Start();  // for its repository
    ASSERT_NE(store_, nullptr);
  }

  TlsOptions ServerTls(bool mutual) const {
    TlsOptions tls;
    tls.cert_file = certs_->Path("server.crt");
    tls.key_file = certs_->Path("server.key");
    if (mutual) tls.client_ca_file = certs_->Path("ca.crt");
    return tls;
  }

  absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& listen, TlsCertificates* tls,
      const Authorizer* authorizer = nullptr, bool allow_insecure = false) {
    ServerOptions options;
    options.listen_address = listen;
    options.repository = &store_->repository();
    options.tls = tls;
    options.authorizer = authorizer;
    options.allow_insecure = allow_insecure;
    options.log_calls = false;
    return Server::Start(std::move(options));
  }

  std::unique_ptr<TestCertificates> certs_;
  std::unique_ptr<TestServer> store_;
};

TEST_F(TransportTest, PlaintextOnlyOnLoopbackUnlessAllowed) {
  absl::StatusOr<std::unique_ptr<Server>> refused = Start("0.0.0.0:0", nullptr);
  EXPECT_THAT(refused.status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("refusing to serve plaintext on 0.0.0.0:0, "
                                 "which is not a loopback address")));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("--allow_insecure"));

  absl::StatusOr<std::unique_ptr<Server>> allowed =
      Start("0.0.0.0:0", nullptr, nullptr, /*allow_insecure=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(
      ListStrategies(Dial(absl::StrCat("127.0.0.1:", (*allowed)->port()),
                          certs_.get(), ""))
          .ok());

  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(false));
  ASSERT_TRUE(tls.ok()) << tls.status();
  absl::StatusOr<std::unique_ptr<Server>> secure =
      Start("0.0.0.0:0", tls->get());
  ASSERT_TRUE(secure.ok()) << secure.status();
}

TEST_F(TransportTest, TlsServesTlsOnly) {
  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(false));
  ASSERT_TRUE(tls.ok()) << tls.status();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Start("127.0.0.1:0", tls->get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  EXPECT_TRUE(ListStrategies(Dial(address, certs_.get(), "ca.crt")).ok());
  EXPECT_EQ(ListStrategies(Dial(address, certs_.get(), "")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A server certificate from a CA the client does not trust.
  EXPECT_EQ(
      ListStrategies(Dial(address, certs_.get(), "other-ca.crt")).error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TransportTest, MutualTlsRequiresAClientCertificateOfTheCa) {
  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(true));
  ASSERT_TRUE(tls.ok()) << tls.status();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Start("127.0.0.1:0", tls->get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  EXPECT_NE(ListStrategies(Dial(address, certs_.get(), "ca.crt")).error_code(),
            grpc::StatusCode::OK);
  EXPECT_NE(ListStrategies(Dial(address, certs_.get(), "ca.crt",
                                "other-client.crt", "other-client.key"))
                .error_code(),
            grpc::StatusCode::OK);
  EXPECT_TRUE(ListStrategies(Dial(address, certs_.get(), "ca.crt", "client.crt",
                                  "client.key"))
                  .ok());
}

TEST_F(TransportTest, MutualTlsAloneGivesEveryClientTheConfiguredRole) {
  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(true));
  ASSERT_TRUE(tls.ok()) << tls.status();
  AuthOptions auth;
  auth.client_certificates = true;
  auth.client_cert_role = Role::kWriter;
  auth.log_sink = [](std::string_view) {};
  absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
      Authorizer::Create(std::move(auth));
  ASSERT_TRUE(authorizer.ok());
  absl::StatusOr<std::unique_ptr<Server>> server =
      Start("127.0.0.1:0", tls->get(), authorizer->get());
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = Dial((*server)->address(), certs_.get(), "ca.crt",
                      "client.crt", "client.key");
  EXPECT_TRUE(ListStrategies(channel).ok());
  auto stub = v1::KpiService::NewStub(channel);
  grpc::ClientContext context;
  v1::DeleteStrategyRequest request;
  request.set_name("strategies/s");
  google::protobuf::Empty empty;
  const grpc::Status status = stub->DeleteStrategy(&context, request, &empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The certificate's subject identifies the caller.
  EXPECT_THAT(status.error_message(),
              HasSubstr("needs role admin; the caller "
                        "(CN=stats-batch,OU=Statistics,O=Asahikawa City) has "
                        "role writer"));
}

TEST_F(TransportTest, WithTokensMutualTlsStillNeedsAToken) {
  const std::string dir = certs_->dir().string();
  const std::string token = "batch-token";
  const Digest digest = Sha256(token);
  std::ofstream(dir + "/tokens.txt")
      << "reader "
      << absl::BytesToHexString(absl::string_view(
             reinterpret_cast<const char*>(digest.data()), digest.size()))
      << " batch\n";
  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(true));
  ASSERT_TRUE(tls.ok()) << tls.status();
  AuthOptions auth;
  auth.tokens_file = dir + "/tokens.txt";
  auth.client_certificates = true;
  auth.log_sink = [](std::string_view) {};
  absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
      Authorizer::Create(std::move(auth));
  ASSERT_TRUE(authorizer.ok()) << authorizer.status();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Start("127.0.0.1:0", tls->get(), authorizer->get());
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = Dial((*server)->address(), certs_.get(), "ca.crt",
                      "client.crt", "client.key");
  EXPECT_EQ(ListStrategies(channel).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListStrategies(channel, token).ok());
}

TEST_F(TransportTest, ClientCertificateAuthorizationNeedsMutualTls) {
  AuthOptions auth;
  auth.client_certificates = true;
  absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
      Authorizer::Create(std::move(auth));
  ASSERT_TRUE(authorizer.ok());
  EXPECT_THAT(Start("127.0.0.1:0", nullptr, authorizer->get()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--tls_client_ca_file")));
}

// A renewed certificate is taken without a restart (SIGHUP calls Reload):
// connections made after the reload get the new one.
TEST_F(TransportTest, CertificatesReloadWithoutARestart) {
  absl::StatusOr<std::unique_ptr<TlsCertificates>> tls =
      TlsCertificates::Load(ServerTls(false));
  ASSERT_TRUE(tls.ok()) << tls.status();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Start("127.0.0.1:0", tls->get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  ASSERT_TRUE(ListStrategies(Dial(address, certs_.get(), "ca.crt")).ok());

  std::unique_ptr<TestCertificates> renewed = TestCertificates::Make();
  ASSERT_NE(renewed, nullptr);
  const auto copy = std::filesystem::copy_options::overwrite_existing;
  // A broken pair first: the reload fails and the old certificate stays.
  std::filesystem::copy_file(renewed->Path("server.crt"),
                             certs_->Path("server.crt"), copy);
  EXPECT_THAT(tls->get()->Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not the key of the certificate")));
  EXPECT_TRUE(ListStrategies(Dial(address, certs_.get(), "ca.crt")).ok());

  std::filesystem::copy_file(renewed->Path("server.key"),
                             certs_->Path("server.key"), copy);
  ASSERT_TRUE(tls->get()->Reload().ok());
  EXPECT_TRUE(ListStrategies(Dial(address, renewed.get(), "ca.crt")).ok());
  EXPECT_EQ(ListStrategies(Dial(address, certs_.get(), "ca.crt")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TransportTest, BadTlsFilesAreRefusedWithTheFlagAndFile) {
  TlsOptions only_cert;
  only_cert.cert_file = certs_->Path("server.crt");
  EXPECT_THAT(
      ReadTlsPem(only_cert).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("go together")));

  TlsOptions missing = ServerTls(false);
  missing.key_file = certs_->Path("nope.key");
  EXPECT_THAT(ReadTlsPem(missing).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("--tls_key_file: cannot read")));

  TlsOptions mismatched = ServerTls(false);
  mismatched.key_file = certs_->Path("client.key");
  EXPECT_THAT(ReadTlsPem(mismatched).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not the key of the certificate")));

  TlsOptions swapped = ServerTls(false);
  swapped.cert_file = certs_->Path("server.key");
  EXPECT_THAT(ReadTlsPem(swapped).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no PEM certificate")));

  TlsOptions key_as_ca = ServerTls(true);
  key_as_ca.client_ca_file = certs_->Path("ca.key");
  EXPECT_THAT(ReadTlsPem(key_as_ca).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_client_ca_file")));

  TlsOptions ca_only;
  ca_only.client_ca_file = certs_->Path("ca.crt");
  EXPECT_THAT(ReadTlsPem(ca_only).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs --tls_cert_file")));

  EXPECT_TRUE(ReadTlsPem(ServerTls(true)).ok());
}

}  // namespace
}  // namespace kpi::services::testing
