#ifndef KPI_SERVICES_SERVER_AUTH_H_
#define KPI_SERVICES_SERVER_AUTH_H_

// Who may call what. Three roles, each including the one below it:
//   reader  Get, List, Export, every projection
//   writer  also Create and Update of every resource, ImportDataset
//   admin   also Delete, references, the change log
// The health service and server reflection are open to everyone.
// kMethodRules is the one table from method to role; a method missing from
// it is refused to everyone (UNIMPLEMENTED, as gRPC answers a method it does
// not serve) (tests/services/auth_test.cc walks every method
// of every service the server registers and fails on a missing one).
//
// Callers are identified by a bearer token (`authorization: Bearer TOKEN`,
// the token's SHA-256 digest listed in the --auth_tokens_file) or, on a
// mutual-TLS server without a tokens file, by their verified client
// certificate, which then has one configured role. How the two combine:
//   tokens file, with or without mTLS  a valid token is required and gives
//                                      the role; mTLS only decides which
//                                      machines may connect at all
//   mTLS without a tokens file         every verified certificate has the
//                                      role --client_cert_role; the
//                                      certificate's subject is the author
//   neither                            no one is authenticated; every call
//                                      is allowed and writes are recorded
//                                      as made by "anonymous"
//
// The check runs in gRPC's core before the call reaches any handler
// (services/server/credentials.h installs it as the credentials' auth
// metadata processor), so it covers unary, streaming and callback methods
// alike and a refused call never runs.

#include <grpcpp/grpcpp.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace kpi::services {

// Ordered: a higher role may do all a lower one may.
enum class Role : int { kReader = 1, kWriter = 2, kAdmin = 3 };

// "reader", "writer", "admin".
std::string_view RoleName(Role role);
// The role named `name` (exactly as RoleName spells it), or nullopt.
std::optional<Role> ParseRole(std::string_view name);

struct MethodRule {
  std::string_view method;  // "/package.Service/Method"
  // The least role that may call it; nullopt: open to everyone.
  std::optional<Role> role;
};

// Every method the server serves, with its role.
absl::Span<const MethodRule> MethodRules();
// The rule of `method`, or null when it is not in the table.
const MethodRule* FindMethodRule(std::string_view method);

using Digest = std::array<uint8_t, 32>;

// SHA-256 of `data`.
Digest Sha256(std::string_view data);

// Whether a == b, in a time that does not depend on where they differ
// (OpenSSL's CRYPTO_memcmp), so that response times tell an attacker
// nothing about how close a guessed digest came.
bool DigestsEqual(const Digest& a, const Digest& b);

struct TokenEntry {
  Role role;
  Digest digest;
  std::string label;  // recorded as the author of the token's writes
};

// The tokens of an --auth_tokens_file. Immutable once parsed; thread-safe.
class TokenTable {
 public:
  // Longest label accepted, in bytes.
  static constexpr size_t kMaxLabelBytes = 128;

  // Parses the text of a tokens file: one token per line,
  //   ROLE SHA256_HEX LABEL
  // separated by spaces or tabs, ROLE one of reader, writer, admin, the hex
  // digest of the token as `sha256sum` prints it, LABEL any text without
  // spaces or control characters (who holds the token). Blank lines and
  // lines starting with # are ignored. Two lines may share a label (a
  // client's old and new token while it changes over) but not a digest.
  // INVALID_ARGUMENT naming `source`, the line and what is accepted.
  static absl::StatusOr<TokenTable> Parse(std::string_view text,
                                          std::string_view source);
  // Reads and parses `path`. NOT_FOUND when it cannot be read.
  static absl::StatusOr<TokenTable> ReadFile(const std::string& path);

  // How many comparisons the last lookups made; for tests that check that a
  // lookup compares against every entry.
  struct LookupStats {
    int comparisons = 0;
  };

  // The entry for `token` (compared by SHA-256 digest), or null. Compares
  // the digest against every entry with DigestsEqual and without stopping
  // at a match, so the time taken does not tell which entry matched.
  const TokenEntry* Find(std::string_view token,
                         LookupStats* stats = nullptr) const;

  size_t size() const { return entries_.size(); }
  const std::vector<TokenEntry>& entries() const { return entries_; }

 private:
  std::vector<TokenEntry> entries_;
};

// Who made a call, once it is authenticated.
struct Principal {
  Role role;
  // What the change log and revisions record as the author: the token's
  // label, the client certificate's subject, or "anonymous".
  std::string author;
};

// The author recorded when the server authenticates no one.
inline constexpr std::string_view kAnonymousAuthor = "anonymous";

struct AuthOptions {
  // The --auth_tokens_file; empty for none.
  std::string tokens_file;
  // Whether the transport verifies client certificates (mutual TLS).
  bool client_certificates = false;
  // The role of a verified client certificate when there is no tokens file.
  Role client_cert_role = Role::kReader;
  // Receives one line per refused call and per reload, from gRPC's threads;
  // must be thread-safe. Null: stderr.
  std::function<void(std::string_view line)> log_sink;
};

// Authenticates and authorizes calls. Thread-safe: Authorize and Identify
// run concurrently on gRPC's threads while Reload swaps the token table.
class Authorizer {
 public:
  // Reads the tokens file, if any. Errors as TokenTable::ReadFile's.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(
      AuthOptions options);

  // Whether calls need credentials at all (a tokens file, or mutual TLS).
  bool enabled() const {
    return !options_.tokens_file.empty() || options_.client_certificates;
  }

  // Whether callers without a token are identified by their client
  // certificate (mutual TLS, AuthOptions::client_certificates).
  bool client_certificates() const { return options_.client_certificates; }

  // Re-reads the tokens file (on SIGHUP). On an error the tokens in use
  // stay, the error is logged and returned. Returns the number of tokens
  // now in use.
  absl::StatusOr<size_t> Reload();

  // The decision for a call of `method` with the given `authorization`
  // metadata values (normally zero or one) and the verified client
  // certificate's subject ("" for none): the caller, or UNAUTHENTICATED (no
  // or unknown token, several authorization values, another scheme than
  // Bearer) or PERMISSION_DENIED naming the role the method needs. Open
  // methods are allowed to everyone (author "anonymous" without a token).
  // A method not in MethodRules() is UNIMPLEMENTED. Logs every refusal.
  absl::StatusOr<Principal> Authorize(
      std::string_view method, absl::Span<const std::string_view> authorization,
      std::string_view client_subject) const;

  // The caller of a call that Authorize let through, found again from its
  // context for the handler (the author of a write). UNAUTHENTICATED when
  // the token was revoked in between.
  absl::StatusOr<Principal> Identify(
      const grpc::ServerContextBase& context) const;

 private:
  explicit Authorizer(AuthOptions options) : options_(std::move(options)) {}

  // The caller by token or certificate, before the role check.
  absl::StatusOr<Principal> Authenticate(
      absl::Span<const std::string_view> authorization,
      std::string_view client_subject) const;
  void Log(std::string_view line) const;

  const AuthOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> tokens_ ABSL_GUARDED_BY(mu_);
};

// The author of a write made by `context`'s call: Identify's author, or
// "anonymous" when `authorizer` is null or authenticates no one.
absl::StatusOr<std::string> AuthorOf(const Authorizer* authorizer,
                                     const grpc::ServerContextBase& context);

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_AUTH_H_
