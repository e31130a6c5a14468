#include "sandbox/vmm_client.h"

#include <gtest/gtest.h>

#include "sandbox/sandbox_error.h"
#include "sandbox_fake_server.h"

namespace hull::shim {
namespace {

using testing::FakeUnixServer;

std::string HttpResponse(int status, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(VmmClientTest, PutSendsJsonAndReadsTheStatus) {
  auto path = testing::TempPath("api");
  std::string request;
  FakeUnixServer server(path, [&](int fd) {
    request = FakeUnixServer::ReadUntil(fd, "}");
    const std::string res = HttpResponse(204, "No Content", "");
    (void)!::write(fd, res.data(), res.size());
  });
  VmmClient client(path);
  VmmResponse r = client.Put("/machine-config", {{"vcpu_count", 1}, {"mem_size_mib", 128}});
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.is_null());
  EXPECT_EQ(request.rfind("PUT /machine-config HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\"mem_size_mib\":128"), std::string::npos) << request;
}

TEST(VmmClientTest, ErrorStatusQuotesTheFaultMessage) {
  auto path = testing::TempPath("api");
  FakeUnixServer server(path, [&](int fd) {
    FakeUnixServer::ReadUntil(fd, "\r\n\r\n");
    const std::string res =
        HttpResponse(400, "Bad Request", R"({"fault_message":"vcpu_count must be 1..32"})");
    (void)!::write(fd, res.data(), res.size());
  });
  VmmClient client(path);
  try {
    client.Get("/");
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("vcpu_count must be 1..32"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("400"), std::string::npos);
  }
}

TEST(VmmClientTest, UnreachableSocketSaysSo) {
  VmmClient client("/nonexistent/api.sock");
  try {
    client.Get("/");
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach hull-vmm"), std::string::npos);
  }
}

}  // namespace
}  // namespace hull::shim
