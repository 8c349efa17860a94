#include "services/server/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lib/base/status_macros.h"

namespace kpi::services {
namespace {

constexpr std::optional<Role> kOpen = std::nullopt;
constexpr std::optional<Role> kReader = Role::kReader;
constexpr std::optional<Role> kWriter = Role::kWriter;
constexpr std::optional<Role> kAdmin = Role::kAdmin;

// The one table. A method added to a service must be added here, or every
// call of it is refused (and tests/services/auth_test.cc fails).
constexpr MethodRule kMethodRules[] = {
    {"/grpc.health.v1.Health/Check", kOpen},
    {"/grpc.health.v1.Health/Watch", kOpen},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", kOpen},

    {"/kpi.v1.ForecastService/ProjectKpi", kReader},
    {"/kpi.v1.ForecastService/ProjectSeries", kReader},
    {"/kpi.v1.ForecastService/BatchProjectKpis", kReader},
    {"/kpi.v1.ForecastService/BatchProjectSeries", kReader},
    {"/kpi.v1.ForecastService/StreamProjectSeries", kReader},
    {"/kpi.v1.ReportService/RenderReport", kReader},
    {"/kpi.v1.ForecastService/CalibrateStore", kAdmin},
    {"/kpi.v1.ForecastService/GetCalibrationSkill", kReader},

    {"/kpi.v1.KpiService/GetStrategy", kReader},
    {"/kpi.v1.KpiService/ListStrategies", kReader},
    {"/kpi.v1.KpiService/CreateStrategy", kWriter},
    {"/kpi.v1.KpiService/UpdateStrategy", kWriter},
    {"/kpi.v1.KpiService/DeleteStrategy", kAdmin},

    {"/kpi.v1.KpiService/GetGoal", kReader},
    {"/kpi.v1.KpiService/ListGoals", kReader},
    {"/kpi.v1.KpiService/CreateGoal", kWriter},
    {"/kpi.v1.KpiService/UpdateGoal", kWriter},
    {"/kpi.v1.KpiService/DeleteGoal", kAdmin},

    {"/kpi.v1.KpiService/GetMeasure", kReader},
    {"/kpi.v1.KpiService/ListMeasures", kReader},
    {"/kpi.v1.KpiService/CreateMeasure", kWriter},
    {"/kpi.v1.KpiService/UpdateMeasure", kWriter},
    {"/kpi.v1.KpiService/DeleteMeasure", kAdmin},

    {"/kpi.v1.KpiService/GetKpi", kReader},
    {"/kpi.v1.KpiService/ListKpis", kReader},
    {"/kpi.v1.KpiService/CreateKpi", kWriter},
    {"/kpi.v1.KpiService/UpdateKpi", kWriter},
    {"/kpi.v1.KpiService/DeleteKpi", kAdmin},

    {"/kpi.v1.KpiService/GetObservation", kReader},
    {"/kpi.v1.KpiService/ListObservations", kReader},
    {"/kpi.v1.KpiService/CreateObservation", kWriter},
    {"/kpi.v1.KpiService/UpdateObservation", kWriter},
    {"/kpi.v1.KpiService/DeleteObservation", kAdmin},

    {"/kpi.v1.KpiService/GetEvaluation", kReader},
    {"/kpi.v1.KpiService/ListEvaluations", kReader},
    {"/kpi.v1.KpiService/CreateEvaluation", kWriter},
    {"/kpi.v1.KpiService/UpdateEvaluation", kWriter},
    {"/kpi.v1.KpiService/DeleteEvaluation", kAdmin},

    // Reference tables (法定雇用率 ...) are shared by every strategy's
    // targets: reading them is a reader's, changing them an admin's.
    {"/kpi.v1.KpiService/GetReference", kReader},
    {"/kpi.v1.KpiService/ListReferences", kReader},
    {"/kpi.v1.KpiService/CreateReference", kAdmin},
    {"/kpi.v1.KpiService/UpdateReference", kAdmin},
    {"/kpi.v1.KpiService/DeleteReference", kAdmin},

    {"/kpi.v1.KpiService/ImportDataset", kWriter},
    {"/kpi.v1.KpiService/ExportDataset", kReader},
    // Who changed what: an administrator's (it names every writer).
    {"/kpi.v1.KpiService/ListChanges", kAdmin},
};

constexpr std::string_view kBearer = "Bearer";

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

void WriteToStderr(std::string_view line) {
  std::string out(line);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stderr);
}

// A label is recorded as an author and printed in logs: no spaces (the
// file's separator) and no control characters.
bool IsValidLabel(std::string_view label) {
  if (label.empty() || label.size() > TokenTable::kMaxLabelBytes) return false;
  for (unsigned char c : label) {
    if (c < 0x21 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kReader, Role::kWriter, Role::kAdmin}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

absl::Span<const MethodRule> MethodRules() { return kMethodRules; }

const MethodRule* FindMethodRule(std::string_view method) {
  static const auto* const kByMethod = [] {
    auto* map = new absl::flat_hash_map<std::string_view, const MethodRule*>();
    for (const MethodRule& rule : kMethodRules)
      map->emplace(rule.method, &rule);
    return map;
  }();
  auto it = kByMethod->find(method);
  return it == kByMethod->end() ? nullptr : it->second;
}

Digest Sha256(std::string_view data) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest.data());
  return digest;
}

bool DigestsEqual(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view text,
                                             std::string_view source) {
  TokenTable table;
  absl::flat_hash_map<std::string, int> line_of_digest;
  int line_number = 0;
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const auto error = [&](std::string_view what) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s line %d: %s; accepted: ROLE SHA256_HEX LABEL, ROLE one of "
          "reader, writer, admin, the token's SHA-256 as 64 hex digits "
          "(printf %%s \"$TOKEN\" | sha256sum), LABEL without spaces",
          source, line_number, what));
    };
    if (fields.size() != 3) {
      return error(absl::StrFormat("%d fields", fields.size()));
    }
    const std::optional<Role> role =
        ParseRole(std::string_view(fields[0].data(), fields[0].size()));
    if (!role.has_value()) {
      return error(absl::StrCat("unknown role \"",
                                absl::CEscape(fields[0].substr(0, 32)), "\""));
    }
    const std::string hex = absl::AsciiStrToLower(fields[1]);
    if (hex.size() != 64 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return error("the digest is not 64 hex digits");
    }
    if (!IsValidLabel(std::string_view(fields[2].data(), fields[2].size()))) {
      return error(absl::StrFormat(
          "the label is longer than %d bytes or has control characters",
          kMaxLabelBytes));
    }
    auto [it, inserted] = line_of_digest.emplace(hex, line_number);
    if (!inserted) {
      return error(absl::StrFormat(
          "the digest is also on line %d; each token once", it->second));
    }
    TokenEntry entry;
    entry.role = *role;
    const std::string bytes = absl::HexStringToBytes(hex);
    std::copy(bytes.begin(), bytes.end(), entry.digest.begin());
    entry.label = std::string(fields[2]);
    table.entries_.push_back(std::move(entry));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "--auth_tokens_file: cannot read \"", path,
        "\"; accepted: a readable file of lines ROLE SHA256_HEX LABEL"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const TokenEntry* TokenTable::Find(std::string_view token,
                                   LookupStats* stats) const {
  const Digest digest = Sha256(token);
  const TokenEntry* found = nullptr;
  for (const TokenEntry& entry : entries_) {
    // No early exit: every entry costs the same whether it matches or not.
    const bool equal = DigestsEqual(entry.digest, digest);
    if (equal) found = &entry;
    if (stats != nullptr) ++stats->comparisons;
  }
  return found;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(
    AuthOptions options) {
  std::unique_ptr<Authorizer> authorizer(new Authorizer(std::move(options)));
  if (!authorizer->options_.tokens_file.empty()) {
    KPI_ASSIGN_OR_RETURN(
        TokenTable table,
        TokenTable::ReadFile(authorizer->options_.tokens_file));
    absl::MutexLock lock(&authorizer->mu_);
    authorizer->tokens_ = std::make_shared<const TokenTable>(std::move(table));
  }
  return authorizer;
}

absl::StatusOr<size_t> Authorizer::Reload() {
  if (options_.tokens_file.empty()) return 0;
  absl::StatusOr<TokenTable> table = TokenTable::ReadFile(options_.tokens_file);
  if (!table.ok()) {
    size_t kept = 0;
    {
      absl::MutexLock lock(&mu_);
      kept = tokens_ == nullptr ? 0 : tokens_->size();
    }
    Log(absl::StrFormat(
        "auth: reload of %s failed, keeping the %d tokens in use: %s",
        options_.tokens_file, kept, table.status().message()));
    return table.status();
  }
  const size_t size = table->size();
  {
    absl::MutexLock lock(&mu_);
    tokens_ = std::make_shared<const TokenTable>(*std::move(table));
  }
  Log(absl::StrFormat("auth: reloaded %s: %d tokens", options_.tokens_file,
                      size));
  return size;
}

absl::StatusOr<Principal> Authorizer::Authenticate(
    absl::Span<const std::string_view> authorization,
    std::string_view client_subject) const {
  if (options_.tokens_file.empty()) {
    if (!options_.client_certificates) {
      return Principal{Role::kAdmin, std::string(kAnonymousAuthor)};
    }
    if (client_subject.empty()) {
      return absl::UnauthenticatedError(
          "no verified client certificate; this server requires mutual TLS");
    }
    return Principal{options_.client_cert_role, std::string(client_subject)};
  }
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token; send the metadata \"authorization: Bearer TOKEN\" "
        "(kpictl: --token_file or KPI_TOKEN)");
  }
  if (authorization.size() > 1) {
    return absl::UnauthenticatedError(absl::StrFormat(
        "%d authorization values; send exactly one \"authorization: Bearer "
        "TOKEN\"",
        authorization.size()));
  }
  // RFC 7235: the scheme is case-insensitive; one space, then the token.
  const std::string_view value = authorization[0];
  const size_t space = value.find(' ');
  if (space == std::string_view::npos ||
      !absl::EqualsIgnoreCase(AsAbsl(value.substr(0, space)),
                              AsAbsl(kBearer))) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not \"Bearer TOKEN\"; accepted: the "
        "Bearer scheme with a token listed in the server's tokens file");
  }
  const std::string_view token = value.substr(space + 1);
  std::shared_ptr<const TokenTable> tokens;
  {
    absl::MutexLock lock(&mu_);
    tokens = tokens_;
  }
  const TokenEntry* entry =
      token.empty() || tokens == nullptr ? nullptr : tokens->Find(token);
  if (entry == nullptr) {
    return absl::UnauthenticatedError(
        "the bearer token is not one this server accepts (unknown or "
        "revoked)");
  }
  return Principal{entry->role, entry->label};
}

absl::StatusOr<Principal> Authorizer::Authorize(
    std::string_view method, absl::Span<const std::string_view> authorization,
    std::string_view client_subject) const {
  const MethodRule* rule = FindMethodRule(method);
  if (rule == nullptr) {
    // What gRPC answers for a method it does not serve (clients such as buf
    // curl then fall back, e.g. to reflection v1alpha); a served method
    // missing from the table is refused the same way, never let through.
    return absl::UnimplementedError(
        absl::StrCat(AsAbsl(method), " is not a method this server serves"));
  }
  absl::StatusOr<Principal> principal =
      Authenticate(authorization, client_subject);
  if (!rule->role.has_value()) {
    if (principal.ok()) return principal;
    return Principal{Role::kReader, std::string(kAnonymousAuthor)};
  }
  if (!principal.ok()) {
    Log(absl::StrCat("auth: ", AsAbsl(method),
                     " UNAUTHENTICATED: ", principal.status().message()));
    return principal.status();
  }
  if (principal->role < *rule->role) {
    Log(absl::StrFormat("auth: %s PERMISSION_DENIED: %s has role %s, needs %s",
                        method, principal->author, RoleName(principal->role),
                        RoleName(*rule->role)));
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s needs role %s; the caller (%s) has role %s", method,
        RoleName(*rule->role), principal->author, RoleName(principal->role)));
  }
  return principal;
}

absl::StatusOr<Principal> Authorizer::Identify(
    const grpc::ServerContextBase& context) const {
  std::vector<std::string_view> authorization;
  const auto range = context.client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it) {
    authorization.emplace_back(it->second.data(), it->second.size());
  }
  std::string subject;
  if (const std::shared_ptr<const grpc::AuthContext> auth =
          context.auth_context();
      auth != nullptr) {
    for (const grpc::string_ref& value :
         auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
      subject.assign(value.data(), value.size());
    }
  }
  return Authenticate(authorization, subject);
}

void Authorizer::Log(std::string_view line) const {
  if (options_.log_sink) {
    options_.log_sink(line);
  } else {
    WriteToStderr(line);
  }
}

absl::StatusOr<std::string> AuthorOf(const Authorizer* authorizer,
                                     const grpc::ServerContextBase& context) {
  if (authorizer == nullptr || !authorizer->enabled()) {
    return std::string(kAnonymousAuthor);
  }
  KPI_ASSIGN_OR_RETURN(Principal principal, authorizer->Identify(context));
  return principal.author;
}

}  // namespace kpi::services
