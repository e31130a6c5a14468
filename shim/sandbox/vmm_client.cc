#include "sandbox/vmm_client.h"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

VmmResponse VmmClient::Request(const std::string& method, const std::string& path,
                               const nlohmann::json& body) const {
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) throw SandboxError("unknown HTTP method " + method);
  if (file_hook_ && body.is_object()) {
    for (const char* key : {"kernel_image_path", "initrd_path", "path_on_host"}) {
      if (auto it = body.find(key); it != body.end() && it->is_string()) file_hook_(it->get<std::string>());
    }
  }

  asio::io_context io;
  beast::basic_stream<asio::local::stream_protocol> stream(io);
  stream.expires_after(timeout_);
  beast::error_code ec;
  stream.socket().connect(asio::local::stream_protocol::endpoint(api_socket_.string()), ec);
  if (ec) {
    throw SandboxError("cannot reach hull-vmm's API socket " + api_socket_.string() + ": " +
                       ec.message() + " (did hull-vmm exit? see its log)");
  }

  http::request<http::string_body> req(verb, path, 11);
  req.set(http::field::host, "localhost");
  req.set(http::field::accept, "application/json");
  if (!body.is_null()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
  }
  req.prepare_payload();

  // basic_stream applies the deadline to the async operations; run them.
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  http::async_write(stream, req, [&](beast::error_code e, size_t) {
    if (e) {
      ec = e;
      return;
    }
    http::async_read(stream, buffer, res, [&](beast::error_code e2, size_t) { ec = e2; });
  });
  io.run();
  if (ec) {
    throw SandboxError(method + " " + path + " to hull-vmm failed: " + ec.message());
  }

  VmmResponse out;
  out.status = static_cast<int>(res.result_int());
  if (!res.body().empty()) {
    out.body = nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
  }
  if (out.status >= 300) {
    std::string fault = out.body.is_object() && out.body.contains("fault_message")
                            ? out.body["fault_message"].get<std::string>()
                            : res.body();
    throw SandboxError("hull-vmm refused " + method + " " + path + " (HTTP " +
                       std::to_string(out.status) + "): " + fault);
  }
  return out;
}

}  // namespace hull::shim
