// hull's side of the ttrpc interop test (see run_interop.sh):
//   ttrpc_interop_peer server SOCKET   serve hull.interop.Echo until stdin closes
//   ttrpc_interop_peer client SOCKET   exercise the Go reference server
//   ttrpc_interop_peer bench SOCKET N  N sequential Echo calls, prints latency
// The service matches go/interop.go; payloads are google.protobuf.StringValue,
// which is what gogo's types.StringValue puts on the wire.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace {

using hull::ttrpc::CallContext;
using hull::ttrpc::Code;
using hull::ttrpc::TtrpcError;
using StringValue = google::protobuf::StringValue;
using namespace std::chrono_literals;

constexpr char kService[] = "hull.interop.Echo";

StringValue Str(std::string v) {
  StringValue s;
  s.set_value(std::move(v));
  return s;
}

int Serve(const std::string& socket) {
  hull::ttrpc::Server server;
  server.RegisterUnary<StringValue, StringValue>(kService, "Echo",
                                                 [](const CallContext&, const StringValue& in) { return in; });
  server.RegisterUnary<StringValue, StringValue>(kService, "Fail", [](const CallContext&, const StringValue&) -> StringValue {
    throw TtrpcError(Code::kNotFound, "container abc not found");
  });
  server.RegisterUnary<StringValue, StringValue>(kService, "Metadata", [](const CallContext& ctx, const StringValue&) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : ctx.metadata) parts.push_back(k + "=" + v);
    std::sort(parts.begin(), parts.end());
    std::string joined;
    for (const auto& p : parts) joined += (joined.empty() ? "" : ",") + p;
    bool has_deadline = ctx.deadline != CallContext::Clock::time_point::max();
    return Str(joined + " deadline=" + (has_deadline ? "true" : "false"));
  });
  server.RegisterUnary<StringValue, StringValue>(kService, "Sleep", [](const CallContext& ctx, const StringValue&) -> StringValue {
    while (!ctx.WaitCancelled(10ms)) {
    }
    throw TtrpcError(Code::kCancelled, "cancelled");
  });
  server.Listen(socket);
  server.Start();
  std::cout << "READY" << std::endl;
  std::string ignored;
  while (std::getline(std::cin, ignored)) {
  }
  server.Shutdown();
  return 0;
}

int RunClient(const std::string& socket) {
  hull::ttrpc::Client client(socket);
  std::vector<std::string> failures;
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  };
  auto code_of = [&](const std::string& service, const std::string& method, const hull::ttrpc::CallOptions& options,
                     std::string* message) {
    try {
      client.Call<StringValue>(service, method, Str(""), options);
      return Code::kOk;
    } catch (const TtrpcError& e) {
      if (message) *message = e.status().message;
      return e.code();
    }
  };

  auto echo = client.Call<StringValue>(kService, "Echo", Str("hello from c++"));
  expect(echo.value() == "hello from c++", "Echo returned '" + echo.value() + "'");
  std::string big(1 << 20, 'b');
  expect(client.Call<StringValue>(kService, "Echo", Str(big)).value() == big, "Echo of 1 MiB differs");

  std::string message;
  expect(code_of(kService, "Nope", {}, &message) == Code::kUnimplemented, "unknown method: " + message);
  expect(code_of("no.Such", "Echo", {}, &message) == Code::kUnimplemented, "unknown service: " + message);
  Code fail = code_of(kService, "Fail", {}, &message);
  expect(fail == Code::kNotFound && message == "container abc not found",
         "Fail: " + std::string(hull::ttrpc::CodeName(fail)) + " " + message);

  hull::ttrpc::CallOptions md;
  md.metadata = {{"k1", "v1"}, {"k2", "v2"}};
  md.timeout = 5s;
  auto seen = client.Call<StringValue>(kService, "Metadata", Str(""), md);
  expect(seen.value() == "k1=v1,k2=v2 deadline=true", "Metadata: '" + seen.value() + "'");

  hull::ttrpc::CallOptions short_deadline;
  short_deadline.timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  Code sleep = code_of(kService, "Sleep", short_deadline, &message);
  expect(sleep == Code::kDeadlineExceeded, "Sleep: " + std::string(hull::ttrpc::CodeName(sleep)) + " " + message);
  expect(std::chrono::steady_clock::now() - start < 3s, "Sleep deadline took too long");

  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] {
      std::string want = "call " + std::to_string(i);
      try {
        if (client.Call<StringValue>(kService, "Echo", Str(want)).value() != want) ++bad;
      } catch (const std::exception&) {
        ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  expect(bad == 0, std::to_string(bad.load()) + " of 32 concurrent Echo calls failed");

  for (const auto& f : failures) std::cerr << "c++ client: " << f << "\n";
  if (!failures.empty()) return 1;
  std::cout << "c++ client: all checks passed against " << socket << std::endl;
  return 0;
}

// Sequential small Echo calls: round-trip latency of one connection.
int Bench(const std::string& socket, int calls) {
  hull::ttrpc::Client client(socket);
  auto request = Str("ping");
  for (int i = 0; i < 100; ++i) client.Call<StringValue>(kService, "Echo", request);  // warm up
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) client.Call<StringValue>(kService, "Echo", request);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "c++ client: " << calls << " calls in " << seconds << " s, " << (seconds / calls * 1e6)
            << " us per round trip" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "bench") {
    spdlog::set_level(spdlog::level::err);
    return Bench(argv[2], std::stoi(argv[3]));
  }
  if (argc != 3) {
    std::cerr << "usage: ttrpc_interop_peer server|client SOCKET | bench SOCKET CALLS\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::err);
  std::string mode = argv[1];
  try {
    if (mode == "server") return Serve(argv[2]);
    if (mode == "client") return RunClient(argv[2]);
    std::cerr << "ttrpc_interop_peer: unknown mode '" << mode << "' (want server or client)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ttrpc_interop_peer: " << e.what() << "\n";
    return 1;
  }
}
