#ifndef KPI_TESTS_SERVICES_TEST_CERTS_H_
#define KPI_TESTS_SERVICES_TEST_CERTS_H_

// Throwaway certificates for TLS tests, made by Debian's openssl through
// tests/certs/make-test-certs.sh in a temporary directory (removed with the
// object). See that script for what each file is.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kpi::services::testing {

class TestCertificates {
 public:
  // Null (with a test failure) when the script fails.
  static std::unique_ptr<TestCertificates> Make() {
    const char* source = std::getenv("KPI_SOURCE_DIR");
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kpi_certs_XXXXXX").string();
    if (source == nullptr || mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "KPI_SOURCE_DIR unset or mkdtemp failed";
      return nullptr;
    }
    auto certs = std::unique_ptr<TestCertificates>(new TestCertificates());
    certs->dir_ = pattern;
    const std::string command =
        absl::StrCat(source, "/tests/certs/make-test-certs.sh '",
                     certs->dir_.string(), "' >/dev/null 2>&1");
    if (std::system(command.c_str()) != 0) {
      ADD_FAILURE() << command << " failed";
      return nullptr;
    }
    return certs;
  }

  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The path of one of the script's files, e.g. "server.crt".
  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }
  // Its content.
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  TestCertificates() = default;
  std::filesystem::path dir_;
};

}  // namespace kpi::services::testing

#endif  // KPI_TESTS_SERVICES_TEST_CERTS_H_
