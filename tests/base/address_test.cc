#include "lib/base/address.h"

#include "gtest/gtest.h"

namespace kpi::base {
namespace {

TEST(IsLoopbackAddressTest, LoopbackHosts) {
  for (const char* address :
       {"127.0.0.1:50051", "127.0.0.1:0", "127.1.2.3:80", "[::1]:50051",
        "localhost:50051", "LOCALHOST:1", "unix:/run/kpi.sock", "127.0.0.1",
        "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
}

TEST(IsLoopbackAddressTest, EverythingElse) {
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", "192.168.1.1:1",
        "128.0.0.1:1", "[2001:db8::1]:50051", "kpi.example.jp:50051",
        "localhost.example.jp:1", ":50051", "", "[::1:50051",
        "[::ffff:127.0.0.1]:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

}  // namespace
}  // namespace kpi::base
