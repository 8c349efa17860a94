#include "services/server/credentials.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/status_macros.h"

namespace kpi::services {
namespace {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using KeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;

absl::StatusOr<std::string> ReadPemFile(std::string_view flag,
                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrFormat(
        "--%s: cannot read \"%s\"; accepted: a readable PEM file", flag, path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The certificates of a PEM text, in order.
std::vector<X509Ptr> Certificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

std::string SliceText(const grpc_slice& slice) {
  return std::string(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
                     GRPC_SLICE_LENGTH(slice));
}

// gRPC core's auth metadata processor: runs before the call reaches the
// C++ layer, so a refused call never starts a handler of any kind.
void ProcessAuthMetadata(void* state, grpc_auth_context* context,
                         const grpc_metadata* md, size_t num_md,
                         grpc_process_auth_metadata_done_cb done,
                         void* user_data) {
  const auto* authorizer = static_cast<const Authorizer*>(state);
  std::string method;
  std::vector<std::string> values;
  for (size_t i = 0; i < num_md; ++i) {
    const std::string key = SliceText(md[i].key);
    if (key == ":path") {
      method = SliceText(md[i].value);
    } else if (key == "authorization") {
      values.push_back(SliceText(md[i].value));
    }
  }
  std::string subject;
  grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(
      context, GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (const grpc_auth_property* p = grpc_auth_property_iterator_next(&it)) {
    subject.assign(p->value, p->value_length);
  }
  const std::vector<std::string_view> authorization(values.begin(),
                                                    values.end());
  const absl::StatusOr<Principal> principal =
      authorizer->Authorize(method, authorization, subject);
  if (principal.ok()) {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
    return;
  }
  const std::string message(principal.status().message());
  done(user_data, nullptr, 0, nullptr, 0,
       static_cast<grpc_status_code>(principal.status().code()),
       message.c_str());
}

// Credentials made with gRPC's C API, so that plaintext and TLS alike carry
// the auth metadata processor (the C++ InsecureServerCredentials cannot).
class CoreServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit CoreServerCredentials(grpc_server_credentials* core) : core_(core) {}
  ~CoreServerCredentials() override { grpc_server_credentials_release(core_); }

  // The Authorizer given to MakeServerCredentials is the processor.
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), core_);
  }

  grpc_server_credentials* const core_;
};

}  // namespace

absl::StatusOr<TlsPem> ReadTlsPem(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together: give both (TLS) or "
        "neither (plaintext)");
  }
  if (options.cert_file.empty() && !options.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file needs --tls_cert_file and --tls_key_file: "
        "client certificates are only asked for over TLS");
  }
  TlsPem pem;
  KPI_ASSIGN_OR_RETURN(pem.cert_chain,
                       ReadPemFile("tls_cert_file", options.cert_file));
  KPI_ASSIGN_OR_RETURN(pem.private_key,
                       ReadPemFile("tls_key_file", options.key_file));
  const std::vector<X509Ptr> chain = Certificates(pem.cert_chain);
  if (chain.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--tls_cert_file \"%s\" holds no PEM certificate; accepted: the "
        "server's certificate (BEGIN CERTIFICATE), then any intermediates",
        options.cert_file));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(chain[0].get())) < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--tls_cert_file \"%s\": the certificate has expired; renew it",
        options.cert_file));
  }
  BioPtr key_bio = MemoryBio(pem.private_key);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr,
                                     const_cast<char*>("")));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--tls_key_file \"%s\" holds no unencrypted PEM private key; "
        "accepted: BEGIN PRIVATE KEY (an encrypted key: openssl pkey -in KEY "
        "-out PLAIN.key)",
        options.key_file));
  }
  if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrFormat(
        "--tls_key_file \"%s\" is not the key of the certificate in "
        "--tls_cert_file \"%s\"",
        options.key_file, options.cert_file));
  }
  if (!options.client_ca_file.empty()) {
    KPI_ASSIGN_OR_RETURN(pem.client_ca, ReadPemFile("tls_client_ca_file",
                                                    options.client_ca_file));
    if (Certificates(pem.client_ca).empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--tls_client_ca_file \"%s\" holds no PEM certificate; accepted: "
          "the certificate(s) of the CA that signs client certificates",
          options.client_ca_file));
    }
  }
  return pem;
}

absl::StatusOr<std::unique_ptr<TlsCertificates>> TlsCertificates::Load(
    TlsOptions options) {
  KPI_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsPem(options));
  std::unique_ptr<TlsCertificates> tls(new TlsCertificates(std::move(options)));
  absl::MutexLock lock(&tls->mu_);
  tls->pem_ = std::move(pem);
  tls->generation_ = 1;
  return tls;
}

absl::Status TlsCertificates::Reload() {
  KPI_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsPem(options_));
  absl::MutexLock lock(&mu_);
  pem_ = std::move(pem);
  ++generation_;
  return absl::OkStatus();
}

TlsCertificates::Subscription* TlsCertificates::Subscribe() {
  absl::MutexLock lock(&mu_);
  subscriptions_.push_back(std::make_unique<Subscription>());
  subscriptions_.back()->owner = this;
  return subscriptions_.back().get();
}

bool TlsCertificates::TakeIfChanged(Subscription* subscription, TlsPem* pem) {
  absl::MutexLock lock(&mu_);
  if (subscription->seen == generation_) return false;
  subscription->seen = generation_;
  *pem = pem_;
  return true;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    TlsCertificates* tls, const Authorizer* authorizer) {
  grpc_server_credentials* core = nullptr;
  if (tls == nullptr) {
    core = grpc_insecure_server_credentials_create();
  } else {
    struct Fetch {
      // Called at start and by each handshake: NEW once per load.
      static grpc_ssl_certificate_config_reload_status Run(
          void* user_data, grpc_ssl_server_certificate_config** config) {
        auto* subscription =
            static_cast<TlsCertificates::Subscription*>(user_data);
        TlsPem pem;
        if (!subscription->owner->TakeIfChanged(subscription, &pem)) {
          return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
        }
        const grpc_ssl_pem_key_cert_pair pair = {pem.private_key.c_str(),
                                                 pem.cert_chain.c_str()};
        // gRPC 1.51 asserts that a fetched config has client roots, even
        // when no client certificate is asked for (then they are never
        // used): without mutual TLS, the server's own chain stands in.
        const std::string& roots =
            pem.client_ca.empty() ? pem.cert_chain : pem.client_ca;
        // Copies the strings.
        *config =
            grpc_ssl_server_certificate_config_create(roots.c_str(), &pair, 1);
        return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
      }
    };
    TlsCertificates::Subscription* subscription = tls->Subscribe();
    core = grpc_ssl_server_credentials_create_with_options(
        grpc_ssl_server_credentials_create_options_using_config_fetcher(
            tls->client_certificates_required()
                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            &Fetch::Run, subscription));
  }
  if (authorizer != nullptr && authorizer->enabled()) {
    grpc_server_credentials_set_auth_metadata_processor(
        core,
        {&ProcessAuthMetadata, nullptr, const_cast<Authorizer*>(authorizer)});
  }
  return std::make_shared<CoreServerCredentials>(core);
}

}  // namespace kpi::services
