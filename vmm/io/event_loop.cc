#include "io/event_loop.h"

#include <future>

#include <array>
#include <cerrno>
#include <string>

#include "io/io_error.h"

namespace hull::vmm::io {

EventLoop::EventLoop() : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw IoError::FromErrno("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.fd();
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.fd(), &ev) != 0) {
    throw IoError::FromErrno("epoll_ctl ADD wake eventfd");
  }
}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Add(int fd, uint32_t events, Callback callback) {
  std::lock_guard lock(mu_);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw IoError::FromErrno("watching fd " + std::to_string(fd) + " in the I/O loop");
  }
  watches_[fd] = std::make_shared<Watch>(Watch{std::move(callback)});
}

void EventLoop::Modify(int fd, uint32_t events) {
  std::lock_guard lock(mu_);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    throw IoError::FromErrno("changing the events of fd " + std::to_string(fd));
  }
}

void EventLoop::Remove(int fd) {
  std::lock_guard lock(mu_);
  if (watches_.erase(fd) == 0) return;
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  wake_.Signal();
}

int EventLoop::RunOnce(int timeout_ms) {
  std::array<epoll_event, 64> events{};
  int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw IoError::FromErrno("epoll_wait");
  }
  int ran = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_.fd()) {
      wake_.Consume();
      std::vector<std::function<void()>> posted;
      {
        std::lock_guard lock(mu_);
        posted.swap(posted_);
      }
      for (auto& fn : posted) {
        fn();
        ++ran;
      }
      continue;
    }
    std::shared_ptr<Watch> watch;
    {
      // Looked up per event: a callback earlier in this batch may have
      // removed this fd, and then it must not run.
      std::lock_guard lock(mu_);
      auto it = watches_.find(fd);
      if (it == watches_.end()) continue;
      watch = it->second;
    }
    watch->callback(events[i].events);
    ++ran;
  }
  return ran;
}

void EventLoop::Start(std::function<void()> thread_setup) {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  std::promise<void> ready;
  auto started = ready.get_future();
  thread_ = std::thread([this, &ready, setup = std::move(thread_setup)] {
    try {
      if (setup) setup();
      ready.set_value();
    } catch (...) {
      ready.set_exception(std::current_exception());
      return;
    }
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      RunOnce(-1);
    }
  });
  try {
    started.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void EventLoop::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.Signal();
  thread_.join();
}

}  // namespace hull::vmm::io
