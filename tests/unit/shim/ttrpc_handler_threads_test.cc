// The handler thread pool: blocked handlers never hold up others, finished
// threads are reused, idle ones go away, destruction waits for running jobs.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "ttrpc/handler_threads.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;

TEST(HandlerThreads, BlockedJobsDoNotHoldUpOthers) {
  HandlerThreads threads;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> blocked_done{0};
  for (int i = 0; i < 3; ++i) {
    threads.Run([&, released] {
      released.wait();
      ++blocked_done;
    });
  }
  std::promise<void> ran;
  threads.Run([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(blocked_done, 0);
  EXPECT_EQ(threads.ThreadCount(), 4u);
  release.set_value();
}

TEST(HandlerThreads, FinishedThreadsAreReused) {
  HandlerThreads threads;
  for (int i = 0; i < 50; ++i) {
    std::promise<void> done;
    threads.Run([&] { done.set_value(); });
    done.get_future().wait();
    std::this_thread::sleep_for(1ms);  // let the worker get back to idle
  }
  EXPECT_LE(threads.ThreadCount(), 2u);
}

TEST(HandlerThreads, IdleThreadsExit) {
  HandlerThreads threads(20ms);
  std::promise<void> done;
  threads.Run([&] { done.set_value(); });
  done.get_future().wait();
  for (int i = 0; i < 200 && threads.ThreadCount() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(threads.ThreadCount(), 0u);
  std::promise<void> again;
  threads.Run([&] { again.set_value(); });
  EXPECT_EQ(again.get_future().wait_for(5s), std::future_status::ready);
}

TEST(HandlerThreads, DestructionWaitsForRunningJobs) {
  std::atomic<bool> finished{false};
  {
    HandlerThreads threads;
    threads.Run([&] {
      std::this_thread::sleep_for(50ms);
      finished = true;
    });
  }
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace hull::ttrpc
