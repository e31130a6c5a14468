// The virtio-fs thread's seccomp filter (ThreadKind::kFs) lets every FUSE
// operation PassthroughFs serves through: each runs in a forked child under
// the real filter (a missing system call kills it with SIGSYS), and the
// parent checks the operation's effect on the host, so a child that did
// nothing cannot pass.
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "fuse_test_client.h"
#include "seccomp/thread_filter.h"

namespace hull::vmm::fuse {
namespace {

using testing::AsBytes;
using testing::Cat;
using testing::Cstr;
using testing::FuseClient;
using testing::TempTree;

bool FiltersLoad() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return false;
  seccomp_release(ctx);
  return seccomp_api_get() >= 1;
}

// Runs `op` (which returns the FUSE error it got) in a child under the
// virtio-fs filter; returns a description of how the child ended.
std::string UnderFilter(const std::function<int()>& op) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      seccomp::InstallThreadFilter(seccomp::ThreadKind::kFs);
    } catch (...) {
      _exit(100);
    }
    _exit(op() == 0 ? 0 : 101);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) == 101) return "the operation failed";
  return WEXITSTATUS(status) == 0 ? "ok" : "exit " + std::to_string(WEXITSTATUS(status));
}

TEST(VirtioFsSeccomp, EveryOperationRunsUnderTheFsFilter) {
  if (!FiltersLoad()) GTEST_SKIP() << "this process cannot load seccomp filters (qemu-user emulation)";
  TempTree tree;
  TempTree::Write(tree.share + "/file", "0123456789");
  std::filesystem::create_directory(tree.share + "/dir");
  FuseClient fuse(tree.share);
  ASSERT_EQ(fuse.Init().error(), 0);
  const uint64_t file = fuse.NodeOf(kRootNodeId, "file");
  const uint64_t dir = fuse.NodeOf(kRootNodeId, "dir");
  const uint64_t fh = fuse.Open(file, O_RDWR);
  const uint32_t uid = ::geteuid(), gid = ::getegid();
  auto host = [&](const std::string& rel) { return tree.share + "/" + rel; };

  struct Case {
    const char* name;
    std::function<int()> op;
    std::function<bool()> effect;  // seen on the host afterwards
  };
  const std::vector<Case> cases = {
      {"lookup+getattr", [&] { return fuse.Lookup(dir, "..x").error() == ENOENT ? fuse.Call(FUSE_GETATTR, file, AsBytes(fuse_getattr_in{})).error() : 1; },
       [] { return true; }},
      {"create+write", [&] {
         auto c = fuse.Create(kRootNodeId, "created");
         if (c.error()) return c.error();
         struct Out { fuse_entry_out e; fuse_open_out o; } out = c.As<Out>();
         return fuse.Write(out.e.nodeid, out.o.fh, 0, "abc").error();
       }, [&] { return TempTree::Read(host("created")) == "abc"; }},
      {"read", [&] { return fuse.Read(file, fh, 2, 3).Data() == "234" ? 0 : 1; }, [] { return true; }},
      {"read into guest buffers", [&] {
         fuse_in_header in{};
         fuse_read_in rd{};
         rd.fh = fh;
         rd.size = 3;
         in.len = sizeof in + sizeof rd;
         in.opcode = FUSE_READ;
         in.unique = 1;
         in.nodeid = file;
         std::vector<uint8_t> out(64);
         const std::span<uint8_t> spans[] = {std::span<uint8_t>(out)};
         const size_t n = fuse.server().Handle(Cat({AsBytes(in), AsBytes(rd)}), spans);
         return n == sizeof(fuse_out_header) + 3 ? 0 : 1;
       }, [] { return true; }},
      {"open", [&] { return fuse.Call(FUSE_OPEN, file, AsBytes(fuse_open_in{})).error(); }, [] { return true; }},
      {"mkdir", [&] { return fuse.Mkdir(kRootNodeId, "newdir").error(); },
       [&] { return std::filesystem::is_directory(host("newdir")); }},
      {"mknod fifo", [&] {
         fuse_mknod_in m{};
         m.mode = S_IFIFO | 0600;
         return fuse.Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("fifo")})).error();
       }, [&] { return std::filesystem::is_fifo(host("fifo")); }},
      {"symlink+readlink", [&] {
         auto s = fuse.Call(FUSE_SYMLINK, kRootNodeId, Cat({Cstr("link"), Cstr("target")}));
         return s.error() ? s.error() : fuse.Call(FUSE_READLINK, s.As<fuse_entry_out>().nodeid, {}).error();
       }, [&] { return std::filesystem::is_symlink(host("link")); }},
      {"link", [&] {
         fuse_link_in l{};
         l.oldnodeid = file;
         return fuse.Call(FUSE_LINK, dir, Cat({AsBytes(l), Cstr("hard")})).error();
       }, [&] { return std::filesystem::exists(host("dir/hard")); }},
      {"rename", [&] {
         fuse_rename2_in r{};
         r.newdir = dir;
         return fuse.Call(FUSE_RENAME2, kRootNodeId, Cat({AsBytes(r), Cstr("file"), Cstr("moved")})).error();
       }, [&] { return std::filesystem::exists(host("dir/moved")); }},
      {"setattr", [&] {
         fuse_setattr_in s{};
         s.valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME | FATTR_ATIME | FATTR_UID | FATTR_GID;
         s.size = 4;
         s.mode = 0600;
         s.uid = uid;
         s.gid = gid;
         return fuse.Call(FUSE_SETATTR, file, AsBytes(s)).error();
       }, [&] { return std::filesystem::file_size(host("dir/moved")) == 4; }},
      {"fsync+fallocate+lseek", [&] {
         fuse_fsync_in f{};
         f.fh = fh;
         fuse_fallocate_in a{};
         a.fh = fh;
         a.length = 8192;
         fuse_lseek_in l{};
         l.fh = fh;
         l.whence = SEEK_DATA;
         return fuse.Call(FUSE_FSYNC, file, AsBytes(f)).error() | fuse.Call(FUSE_FALLOCATE, file, AsBytes(a)).error() |
                fuse.Call(FUSE_LSEEK, file, AsBytes(l)).error();
       }, [&] { return std::filesystem::file_size(host("dir/moved")) == 8192; }},
      {"opendir+readdir+statfs", [&] {
         auto o = fuse.Call(FUSE_OPENDIR, kRootNodeId, AsBytes(fuse_open_in{}));
         if (o.error()) return o.error();
         fuse_read_in rd{};
         rd.fh = o.As<fuse_open_out>().fh;
         rd.size = 4096;
         auto r = fuse.Call(FUSE_READDIR, kRootNodeId, AsBytes(rd));
         if (r.error() || r.Data().empty()) return 1;
         return fuse.Call(FUSE_STATFS, kRootNodeId, {}).error();
       }, [] { return true; }},
      {"unlink+rmdir", [&] {
         return fuse.Call(FUSE_UNLINK, dir, Cstr("hard")).error() | fuse.Call(FUSE_RMDIR, kRootNodeId, Cstr("newdir")).error();
       }, [&] { return !std::filesystem::exists(host("dir/hard")) && !std::filesystem::exists(host("newdir")); }},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(UnderFilter(c.op), "ok") << c.name;
    EXPECT_TRUE(c.effect()) << c.name << ": no effect on the host";
  }
}

TEST(VirtioFsSeccomp, TheFilterStillRefusesWhatTheFsNeverCalls) {
  if (!FiltersLoad()) GTEST_SKIP() << "this process cannot load seccomp filters (qemu-user emulation)";
  // execve is no file system call: the filter must kill, or it allows too much.
  const std::string how = UnderFilter([] {
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execve("/bin/true", argv, nullptr);
    return 0;
  });
  EXPECT_EQ(how, "killed by signal " + std::to_string(SIGSYS));
}

}  // namespace
}  // namespace hull::vmm::fuse
