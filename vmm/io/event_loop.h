// The VMM's I/O thread: one epoll loop that owns the device back ends
// (queue doorbells, tap fds, unix sockets, worker completions) so vCPU
// threads never wait on I/O. Callbacks run on the loop thread only.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "io/event_fd.h"
#include "io/unique_fd.h"

namespace hull::vmm::io {

class EventLoop {
 public:
  // `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, ...).
  using Callback = std::function<void(uint32_t events)>;

  EventLoop();  // throws IoError
  ~EventLoop();  // stops and joins the thread
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (not owned) for `events`. Thread-safe; callable from a
  // callback. Throws IoError (e.g. the fd is already watched).
  void Add(int fd, uint32_t events, Callback callback);
  void Modify(int fd, uint32_t events);
  // Stops watching `fd`; after it returns on the loop thread, the callback
  // is not called again. Unknown fds are ignored.
  void Remove(int fd);

  // Runs `fn` on the loop thread soon (used to kick work from other threads).
  void Post(std::function<void()> fn);

  // Dispatches ready events for at most `timeout_ms` (-1: until one arrives);
  // returns how many callbacks ran. Used by Start() and directly by tests.
  int RunOnce(int timeout_ms);

  // Spawns the I/O thread. `thread_setup` (e.g. a seccomp filter) runs on
  // it before the loop; if it throws, the thread ends and Start rethrows.
  void Start(std::function<void()> thread_setup = {});
  void Stop();   // wakes it and joins; idempotent

 private:
  struct Watch {
    Callback callback;
  };

  UniqueFd epoll_;
  EventFd wake_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::vector<std::function<void()>> posted_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hull::vmm::io
