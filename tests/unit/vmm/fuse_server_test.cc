// FUSE requests against a temporary directory: round trips of every
// operation a container rootfs or volume needs, as the guest would send them.
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "fuse/fuse_error.h"
#include "fuse_test_client.h"

namespace hull::vmm::fuse {
namespace {

using testing::AsBytes;
using testing::Cat;
using testing::Cstr;
using testing::FuseClient;
using testing::TempTree;

class FuseServerTest : public ::testing::Test {
 protected:
  FuseServerTest() {
    TempTree::Write(tree.share + "/hello.txt", "hello from the host\n");
    std::filesystem::create_directory(tree.share + "/dir");
    TempTree::Write(tree.share + "/dir/inner", "inner");
    fuse = std::make_unique<FuseClient>(tree.share);
    EXPECT_EQ(fuse->Init().error(), 0);
  }
  std::string Host(const std::string& rel) const { return tree.share + "/" + rel; }

  TempTree tree;
  std::unique_ptr<FuseClient> fuse;
};

TEST(FuseServerSetup, MissingShareIsAClearError) {
  try {
    PassthroughFs fs(FsOptions{"/nonexistent/hull-share"});
    FAIL() << "a missing directory was accepted";
  } catch (const FuseError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hull-share"), std::string::npos) << e.what();
  }
}

TEST(FuseServerSetup, RequestsBeforeInitAreRefused) {
  TempTree tree;
  FuseClient fuse(tree.share);
  EXPECT_EQ(fuse.Lookup(kRootNodeId, "x").error(), EIO);
}

TEST_F(FuseServerTest, InitNegotiatesSaneLimits) {
  FuseClient fresh(tree.share);
  auto r = fresh.Init();
  ASSERT_EQ(r.error(), 0);
  ASSERT_EQ(r.bytes.size(), sizeof(fuse_out_header) + sizeof(fuse_init_out));
  const auto out = r.As<fuse_init_out>();
  EXPECT_EQ(out.major, 7u);
  EXPECT_EQ(out.minor, 37u);  // the driver's, lower than ours
  EXPECT_EQ(out.max_write, kMaxWrite);
  EXPECT_EQ(out.max_pages, kMaxPages);
  EXPECT_LE(out.max_readahead, 128u << 10);
  EXPECT_TRUE(out.flags & FUSE_BIG_WRITES);
  EXPECT_FALSE(out.flags & FUSE_DO_READDIRPLUS) << "READDIRPLUS is not served: must not be offered";
}

TEST_F(FuseServerTest, InitFromAnOlderDriverGetsTheShortReply) {
  FuseClient fresh(tree.share);
  fuse_init_in init{};
  init.major = 7;
  init.minor = 22;
  auto r = fresh.Call(FUSE_INIT, 0, std::vector<uint8_t>(AsBytes(init).begin(), AsBytes(init).begin() + 16));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.bytes.size(), sizeof(fuse_out_header) + FUSE_COMPAT_22_INIT_OUT_SIZE);
}

TEST_F(FuseServerTest, LookupGetattrAndReadAHostFile) {
  auto r = fuse->Lookup(kRootNodeId, "hello.txt");
  ASSERT_EQ(r.error(), 0);
  const auto e = r.As<fuse_entry_out>();
  EXPECT_GT(e.nodeid, kRootNodeId);
  EXPECT_EQ(e.attr.size, 20u);
  EXPECT_TRUE(S_ISREG(e.attr.mode));
  struct stat st {};
  ASSERT_EQ(::stat(Host("hello.txt").c_str(), &st), 0);
  EXPECT_EQ(e.attr.ino, st.st_ino);

  fuse_getattr_in g{};
  auto a = fuse->Call(FUSE_GETATTR, e.nodeid, AsBytes(g));
  ASSERT_EQ(a.error(), 0);
  EXPECT_EQ(a.As<fuse_attr_out>().attr.size, 20u);

  const uint64_t fh = fuse->Open(e.nodeid, O_RDONLY);
  auto data = fuse->Read(e.nodeid, fh, 6, 100);
  ASSERT_EQ(data.error(), 0);
  EXPECT_EQ(data.Data(), "from the host\n");
  fuse_release_in rl{};
  rl.fh = fh;
  EXPECT_EQ(fuse->Call(FUSE_RELEASE, e.nodeid, AsBytes(rl)).error(), 0);
  EXPECT_EQ(fuse->Read(e.nodeid, fh, 0, 10).error(), EBADF) << "a released handle still reads";
}

TEST_F(FuseServerTest, SameHostFileKeepsItsNodeIdAndForgetDropsIt) {
  const uint64_t a = fuse->NodeOf(kRootNodeId, "hello.txt");
  const uint64_t b = fuse->NodeOf(kRootNodeId, "hello.txt");
  EXPECT_EQ(a, b);
  const size_t known = fuse->fs().inodes().size();
  fuse->Forget(a, 1);
  EXPECT_NE(fuse->fs().inodes().Find(a), nullptr) << "two lookups, one forget: must stay";
  fuse->Forget(a, 1);
  EXPECT_EQ(fuse->fs().inodes().Find(a), nullptr);
  EXPECT_EQ(fuse->fs().inodes().size(), known - 1);
  // A new lookup gets a new id: ids are never reused.
  EXPECT_NE(fuse->NodeOf(kRootNodeId, "hello.txt"), a);
}

TEST_F(FuseServerTest, BatchForgetReadsOnlyWhatTheBodyHolds) {
  const uint64_t a = fuse->NodeOf(kRootNodeId, "hello.txt");
  const uint64_t d = fuse->NodeOf(kRootNodeId, "dir");
  fuse_batch_forget_in b{};
  b.count = 1000000;  // claims far more entries than it carries
  fuse_forget_one one{a, 1};
  auto r = fuse->Call(FUSE_BATCH_FORGET, 0, Cat({AsBytes(b), AsBytes(one)}));
  EXPECT_EQ(r.error(), -1);
  EXPECT_EQ(fuse->fs().inodes().Find(a), nullptr);
  EXPECT_NE(fuse->fs().inodes().Find(d), nullptr);
}

TEST_F(FuseServerTest, CreateWriteReadBackOnTheHost) {
  auto c = fuse->Create(kRootNodeId, "new.txt", 0640);
  ASSERT_EQ(c.error(), 0);
  struct Out {
    fuse_entry_out entry;
    fuse_open_out open;
  };
  const auto out = c.As<Out>();
  auto w = fuse->Write(out.entry.nodeid, out.open.fh, 0, "written by the guest");
  ASSERT_EQ(w.error(), 0);
  EXPECT_EQ(w.As<fuse_write_out>().size, 20u);
  fuse_fsync_in f{};
  f.fh = out.open.fh;
  EXPECT_EQ(fuse->Call(FUSE_FSYNC, out.entry.nodeid, AsBytes(f)).error(), 0);
  EXPECT_EQ(TempTree::Read(Host("new.txt")), "written by the guest");
  struct stat st {};
  ASSERT_EQ(::stat(Host("new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(FuseServerTest, CreateDropsSetIdBits) {
  auto c = fuse->Create(kRootNodeId, "suid", 04755);
  ASSERT_EQ(c.error(), 0);
  struct stat st {};
  ASSERT_EQ(::stat(Host("suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "a guest planted a set-uid file on the host";
}

TEST_F(FuseServerTest, SetattrChangesSizeModeAndTimes) {
  const uint64_t node = fuse->NodeOf(kRootNodeId, "hello.txt");
  fuse_setattr_in s{};
  s.valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME;
  s.size = 5;
  s.mode = 0600;
  s.mtime = 1000000000;
  auto r = fuse->Call(FUSE_SETATTR, node, AsBytes(s));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_attr_out>().attr.size, 5u);
  struct stat st {};
  ASSERT_EQ(::stat(Host("hello.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 5);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(TempTree::Read(Host("hello.txt")), "hello");
}

TEST_F(FuseServerTest, MkdirReaddirListsEveryEntry) {
  ASSERT_EQ(fuse->Mkdir(kRootNodeId, "sub").error(), 0);
  for (int i = 0; i < 200; ++i) TempTree::Write(Host("sub/file-with-a-longish-name-" + std::to_string(i)), "x");
  const uint64_t sub = fuse->NodeOf(kRootNodeId, "sub");
  fuse_open_in o{};
  auto od = fuse->Call(FUSE_OPENDIR, sub, AsBytes(o));
  ASSERT_EQ(od.error(), 0);
  const uint64_t fh = od.As<fuse_open_out>().fh;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (int rounds = 0; rounds < 100; ++rounds) {
    fuse_read_in rd{};
    rd.fh = fh;
    rd.offset = offset;
    rd.size = 1024;  // small: several requests, resumed from d_off
    auto r = fuse->Call(FUSE_READDIR, sub, AsBytes(rd));
    ASSERT_EQ(r.error(), 0);
    const std::string data = r.Data();
    ASSERT_LE(data.size(), 1024u);
    if (data.empty()) break;
    for (size_t pos = 0; pos < data.size();) {
      fuse_dirent d{};
      std::memcpy(&d, data.data() + pos, FUSE_NAME_OFFSET);
      names.insert(data.substr(pos + FUSE_NAME_OFFSET, d.namelen));
      offset = d.off;
      pos += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + d.namelen);
    }
  }
  EXPECT_EQ(names.size(), 202u);  // 200 files, ".", ".."
  EXPECT_TRUE(names.count("file-with-a-longish-name-199"));
  fuse_release_in rl{};
  rl.fh = fh;
  EXPECT_EQ(fuse->Call(FUSE_RELEASEDIR, sub, AsBytes(rl)).error(), 0);
}

TEST_F(FuseServerTest, UnlinkRmdirRenameLink) {
  ASSERT_EQ(fuse->Mkdir(kRootNodeId, "gone").error(), 0);
  EXPECT_EQ(fuse->Call(FUSE_RMDIR, kRootNodeId, Cstr("gone")).error(), 0);
  EXPECT_FALSE(std::filesystem::exists(Host("gone")));

  const uint64_t dir = fuse->NodeOf(kRootNodeId, "dir");
  fuse_rename_in rn{};
  rn.newdir = dir;
  EXPECT_EQ(fuse->Call(FUSE_RENAME, kRootNodeId, Cat({AsBytes(rn), Cstr("hello.txt"), Cstr("moved.txt")})).error(), 0);
  EXPECT_EQ(TempTree::Read(Host("dir/moved.txt")), "hello from the host\n");

  fuse_rename2_in rn2{};
  rn2.newdir = kRootNodeId;
  rn2.flags = RENAME_NOREPLACE;
  EXPECT_EQ(fuse->Call(FUSE_RENAME2, dir, Cat({AsBytes(rn2), Cstr("moved.txt"), Cstr("dir")})).error(), EEXIST);
  rn2.flags = 1u << 20;  // no such flag
  EXPECT_EQ(fuse->Call(FUSE_RENAME2, dir, Cat({AsBytes(rn2), Cstr("moved.txt"), Cstr("x")})).error(), EINVAL);

  const uint64_t moved = fuse->NodeOf(dir, "moved.txt");
  fuse_link_in l{};
  l.oldnodeid = moved;
  auto lr = fuse->Call(FUSE_LINK, kRootNodeId, Cat({AsBytes(l), Cstr("hard")}));
  ASSERT_EQ(lr.error(), 0);
  EXPECT_EQ(lr.As<fuse_entry_out>().nodeid, moved) << "a hard link is the same inode";
  EXPECT_EQ(lr.As<fuse_entry_out>().attr.nlink, 2u);

  EXPECT_EQ(fuse->Call(FUSE_UNLINK, dir, Cstr("moved.txt")).error(), 0);
  EXPECT_FALSE(std::filesystem::exists(Host("dir/moved.txt")));
  EXPECT_TRUE(std::filesystem::exists(Host("hard")));
}

TEST_F(FuseServerTest, SymlinkReadlinkAndMknod) {
  auto s = fuse->Call(FUSE_SYMLINK, kRootNodeId, Cat({Cstr("link"), Cstr("../../anything/at/all")}));
  ASSERT_EQ(s.error(), 0);
  const uint64_t link = s.As<fuse_entry_out>().nodeid;
  EXPECT_TRUE(S_ISLNK(s.As<fuse_entry_out>().attr.mode));
  auto rl = fuse->Call(FUSE_READLINK, link, {});
  ASSERT_EQ(rl.error(), 0);
  EXPECT_EQ(rl.Data(), "../../anything/at/all");

  fuse_mknod_in m{};
  m.mode = S_IFIFO | 0600;
  EXPECT_EQ(fuse->Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("fifo")})).error(), 0);
  struct stat st {};
  ASSERT_EQ(::lstat(Host("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  m.mode = S_IFCHR | 0600;
  m.rdev = makedev(1, 3);
  EXPECT_EQ(fuse->Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("null")})).error(), EPERM);
  EXPECT_FALSE(std::filesystem::exists(Host("null")));
}

TEST_F(FuseServerTest, StatfsAccessLseekFallocate) {
  auto st = fuse->Call(FUSE_STATFS, kRootNodeId, {});
  ASSERT_EQ(st.error(), 0);
  EXPECT_GT(st.As<fuse_statfs_out>().st.bsize, 0u);
  fuse_access_in a{};
  a.mask = R_OK;
  EXPECT_EQ(fuse->Call(FUSE_ACCESS, kRootNodeId, AsBytes(a)).error(), 0);

  const uint64_t node = fuse->NodeOf(kRootNodeId, "hello.txt");
  const uint64_t fh = fuse->Open(node, O_RDWR);
  fuse_fallocate_in f{};
  f.fh = fh;
  f.offset = 0;
  f.length = 1 << 20;
  EXPECT_EQ(fuse->Call(FUSE_FALLOCATE, node, AsBytes(f)).error(), 0);
  EXPECT_EQ(std::filesystem::file_size(Host("hello.txt")), 1u << 20);
  fuse_lseek_in l{};
  l.fh = fh;
  l.whence = SEEK_DATA;
  auto lr = fuse->Call(FUSE_LSEEK, node, AsBytes(l));
  ASSERT_EQ(lr.error(), 0);
  EXPECT_EQ(lr.As<fuse_lseek_out>().offset, 0u);
}

TEST_F(FuseServerTest, UnknownOpcodesAndXattrsAreEnosys) {
  EXPECT_EQ(fuse->Call(FUSE_GETXATTR, kRootNodeId, Cat({AsBytes(fuse_getxattr_in{}), Cstr("user.x")})).error(),
            ENOSYS);
  EXPECT_EQ(fuse->Call(FUSE_LISTXATTR, kRootNodeId, AsBytes(fuse_getxattr_in{})).error(), ENOSYS);
  EXPECT_EQ(fuse->Call(FUSE_READDIRPLUS, kRootNodeId, AsBytes(fuse_read_in{})).error(), ENOSYS);
  EXPECT_EQ(fuse->Call(9999, kRootNodeId, {}).error(), ENOSYS);
}

TEST_F(FuseServerTest, DestroyForgetsEverythingButTheRoot) {
  const uint64_t node = fuse->NodeOf(kRootNodeId, "hello.txt");
  fuse->Open(node, O_RDONLY);
  EXPECT_EQ(fuse->Call(FUSE_DESTROY, 0, {}).error(), 0);
  EXPECT_EQ(fuse->fs().inodes().size(), 1u);
  EXPECT_EQ(fuse->fs().handles().size(), 0u);
}

}  // namespace
}  // namespace hull::vmm::fuse
