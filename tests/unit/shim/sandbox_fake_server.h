// A one-connection-at-a-time unix socket server on a thread, for testing the
// sandbox's clients without a VMM: each accepted connection is handed to `serve`.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace hull::shim::testing {

class FakeUnixServer {
 public:
  FakeUnixServer(std::filesystem::path path, std::function<void(int fd)> serve)
      : path_(std::move(path)), serve_(std::move(serve)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path_.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      throw std::runtime_error("fake server: cannot listen on " + path_.string());
    }
    thread_ = std::thread([this] {
      while (true) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0 || stopping_) {
          if (fd >= 0) ::close(fd);
          return;
        }
        serve_(fd);
        ::close(fd);
      }
    });
  }
  ~FakeUnixServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }

  static std::string ReadUntil(int fd, const std::string& terminator) {
    std::string data;
    char c;
    while (data.find(terminator) == std::string::npos && ::read(fd, &c, 1) == 1) data.push_back(c);
    return data;
  }

 private:
  std::filesystem::path path_;
  std::function<void(int)> serve_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

inline std::filesystem::path TempPath(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(::gettid()));
}

}  // namespace hull::shim::testing
