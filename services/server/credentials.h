#ifndef KPI_SERVICES_SERVER_CREDENTIALS_H_
#define KPI_SERVICES_SERVER_CREDENTIALS_H_

// The server's transport: TLS from PEM files (mutual TLS when a client CA is
// given), or plaintext, which only a loopback address gets unless the
// operator says otherwise (a mesh sidecar that terminates TLS). Either way,
// an Authorizer (services/server/auth.h) checks every call inside gRPC's
// core before any handler runs.

#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/server/auth.h"

namespace kpi::services {

struct TlsOptions {
  // PEM: the server's certificate (followed by any intermediates) and its
  // unencrypted private key. Both or neither.
  std::string cert_file;
  std::string key_file;
  // PEM: the CA(s) whose client certificates are accepted. Empty: clients
  // are not asked for a certificate; set: every client must present one
  // that this CA signed (mutual TLS).
  std::string client_ca_file;
};

// The PEM texts of a TLS server, read and checked.
struct TlsPem {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // "" without mutual TLS
};

// Reads the files of `options` and checks them with OpenSSL: the chain
// starts with a certificate that has not expired, the key is a PEM private
// key that matches it, the client CA file holds at least one certificate.
// INVALID_ARGUMENT naming the flag, the file and what is accepted; NOT_FOUND
// for a file that cannot be read.
absl::StatusOr<TlsPem> ReadTlsPem(const TlsOptions& options);

// A TLS server's certificates, which Reload replaces without a restart (a
// renewed certificate): connections made after a successful Reload use the
// new ones. Thread-safe.
class TlsCertificates {
 public:
  // ReadTlsPem's errors.
  static absl::StatusOr<std::unique_ptr<TlsCertificates>> Load(
      TlsOptions options);

  // Re-reads the files; on an error the certificates in use stay and the
  // error is returned.
  absl::Status Reload();

  bool client_certificates_required() const {
    return !options_.client_ca_file.empty();
  }
  const TlsOptions& options() const { return options_; }

  // One server's view of the certificates: what gRPC's certificate config
  // fetcher hands it (services/server/credentials.cc). Owned by this object,
  // which must outlive the server.
  struct Subscription {
    TlsCertificates* owner;
    int64_t seen = 0;  // the generation last handed out; guarded by owner
  };
  Subscription* Subscribe();
  // The certificates when they changed since `subscription` last took them
  // (always the first time); false when unchanged. Called by gRPC's
  // handshakers.
  bool TakeIfChanged(Subscription* subscription, TlsPem* pem);

 private:
  explicit TlsCertificates(TlsOptions options) : options_(std::move(options)) {}

  const TlsOptions options_;
  absl::Mutex mu_;
  TlsPem pem_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Subscription>> subscriptions_
      ABSL_GUARDED_BY(mu_);
};

// Credentials for ServerBuilder::AddListeningPort: TLS with `tls`'s
// certificates, or plaintext when `tls` is null; every call passes
// `authorizer` first when it is non-null and enabled(). Neither is owned;
// both must outlive every server the credentials serve.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    TlsCertificates* tls, const Authorizer* authorizer);

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_CREDENTIALS_H_
