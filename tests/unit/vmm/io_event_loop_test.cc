#include "io/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "io/io_error.h"
#include "io/thread_pool.h"
#include "io/unique_fd.h"

namespace hull::vmm::io {
namespace {

TEST(EventLoopTest, DispatchesReadyFdsAndStopsWatchingRemovedOnes) {
  EventLoop loop;
  EventFd a, b;
  int a_hits = 0, b_hits = 0;
  loop.Add(a.fd(), EPOLLIN, [&](uint32_t) {
    a.Consume();
    ++a_hits;
    loop.Remove(b.fd());  // removing another watch from inside a callback
  });
  loop.Add(b.fd(), EPOLLIN, [&](uint32_t) {
    b.Consume();
    ++b_hits;
  });
  a.Signal();
  EXPECT_EQ(loop.RunOnce(1000), 1);
  EXPECT_EQ(a_hits, 1);
  b.Signal();
  EXPECT_EQ(loop.RunOnce(0), 0);
  EXPECT_EQ(b_hits, 0);
}

TEST(EventLoopTest, RejectsDoubleAdd) {
  EventLoop loop;
  EventFd a;
  loop.Add(a.fd(), EPOLLIN, [](uint32_t) {});
  EXPECT_THROW(loop.Add(a.fd(), EPOLLIN, [](uint32_t) {}), IoError);
}

TEST(EventLoopTest, ThreadRunsPostedWorkAndStops) {
  EventLoop loop;
  loop.Start();
  std::promise<std::thread::id> ran;
  loop.Post([&] { ran.set_value(std::this_thread::get_id()); });
  auto fut = ran.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(fut.get(), std::this_thread::get_id());
  loop.Stop();
  loop.Stop();  // idempotent
}

TEST(EventLoopTest, ReportsHangupOfASocket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd left(sv[0]), right(sv[1]);
  EventLoop loop;
  uint32_t seen = 0;
  loop.Add(left.get(), EPOLLIN | EPOLLRDHUP, [&](uint32_t ev) { seen = ev; });
  right.Reset();
  loop.RunOnce(1000);
  EXPECT_TRUE(seen & EPOLLRDHUP);
}

TEST(ThreadPoolTest, RunsEveryJobAndDrains) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 100; ++i) pool.Submit([&] { n.fetch_add(1); });
    pool.Drain();
    EXPECT_EQ(n.load(), 100);
    for (int i = 0; i < 10; ++i) pool.Submit([&] { n.fetch_add(1); });
  }  // destructor finishes queued jobs
  EXPECT_EQ(n.load(), 110);
}

TEST(ThreadPoolTest, SetupRunsOnEveryWorkerBeforeAnyJob) {
  std::mutex mu;
  std::set<std::thread::id> set_up, ran_on;
  {
    ThreadPool pool(3, [&] {
      std::lock_guard lock(mu);
      set_up.insert(std::this_thread::get_id());
    });
    {
      std::lock_guard lock(mu);
      EXPECT_EQ(set_up.size(), 3u);  // all ran before the constructor returned
    }
    for (int i = 0; i < 30; ++i) {
      pool.Submit([&] {
        std::lock_guard lock(mu);
        ran_on.insert(std::this_thread::get_id());
      });
    }
    pool.Drain();
  }
  EXPECT_FALSE(set_up.count(std::this_thread::get_id()));
  for (const auto& id : ran_on) EXPECT_TRUE(set_up.count(id));
}

TEST(ThreadPoolTest, AFailedSetupIsThrownAndNoWorkerIsLeft) {
  std::atomic<int> calls{0};
  EXPECT_THROW(ThreadPool(2,
                          [&] {
                            if (calls.fetch_add(1) == 1) throw std::runtime_error("no filter");
                          }),
               std::runtime_error);
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace hull::vmm::io
