// A hostile guest against the FUSE server: every request here tries to
// reach outside the share, use an id it was never given, overrun a buffer
// or modify a read-only share. Each expectation names the check it proves;
// removing that check makes it fail (the escape succeeds, or the error
// changes).
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "fuse/name_check.h"
#include "fuse_test_client.h"

namespace hull::vmm::fuse {
namespace {

using testing::AsBytes;
using testing::Cat;
using testing::Cstr;
using testing::FuseClient;
using testing::TempTree;

class FuseSecurityTest : public ::testing::Test {
 protected:
  FuseSecurityTest() {
    TempTree::Write(tree.share + "/file", "inside");
    std::filesystem::create_directory(tree.share + "/dir");
    TempTree::Write(tree.share + "/dir/inner", "inner");
    std::filesystem::create_directory_symlink("/", tree.share + "/to-root");
    std::filesystem::create_symlink(tree.root + "/secret", tree.share + "/to-secret");
    std::filesystem::create_directory_symlink("dir", tree.share + "/to-dir");
    fuse = std::make_unique<FuseClient>(tree.share);
    EXPECT_EQ(fuse->Init().error(), 0);
  }
  bool SecretUntouched() const { return TempTree::Read(tree.root + "/secret") == "outside the share"; }

  TempTree tree;
  std::unique_ptr<FuseClient> fuse;
};

TEST(FuseNameCheck, OnlyOrdinaryComponentsPass) {
  EXPECT_EQ(CheckName("file"), 0);
  EXPECT_EQ(CheckName("..."), 0);
  EXPECT_EQ(CheckName(".hidden"), 0);
  EXPECT_EQ(CheckName(""), EINVAL);
  EXPECT_EQ(CheckName("."), EINVAL);
  EXPECT_EQ(CheckName(".."), EINVAL);
  EXPECT_EQ(CheckName("a/b"), EINVAL);
  EXPECT_EQ(CheckName("/etc"), EINVAL);
  EXPECT_EQ(CheckName(std::string("a\0b", 3)), EINVAL);
  EXPECT_EQ(CheckName(std::string(255, 'x')), 0);
  EXPECT_EQ(CheckName(std::string(256, 'x')), ENAMETOOLONG);
}

TEST_F(FuseSecurityTest, DotDotAndSlashesAreRefusedByTheNameCheck) {
  // openat2(RESOLVE_BENEATH) alone would answer EXDEV to ".." and absolute
  // names and *allow* "dir/inner": EINVAL proves the name check ran first.
  EXPECT_EQ(fuse->Lookup(kRootNodeId, "..").error(), EINVAL);
  EXPECT_EQ(fuse->Lookup(kRootNodeId, "../secret").error(), EINVAL);
  EXPECT_EQ(fuse->Lookup(kRootNodeId, "/etc").error(), EINVAL);
  EXPECT_EQ(fuse->Lookup(kRootNodeId, "dir/inner").error(), EINVAL);
  const uint64_t dir = fuse->NodeOf(kRootNodeId, "dir");
  EXPECT_EQ(fuse->Lookup(dir, "..").error(), EINVAL);
  EXPECT_EQ(fuse->Lookup(kRootNodeId, std::string(300, 'n')).error(), ENAMETOOLONG);
  // Creating or renaming with such names fails the same way.
  EXPECT_EQ(fuse->Create(kRootNodeId, "../escaped").error(), EINVAL);
  EXPECT_EQ(fuse->Mkdir(dir, "../../escaped").error(), EINVAL);
  fuse_rename_in rn{};
  rn.newdir = kRootNodeId;
  EXPECT_EQ(fuse->Call(FUSE_RENAME, kRootNodeId, Cat({AsBytes(rn), Cstr("file"), Cstr("../moved")})).error(), EINVAL);
  fuse_link_in l{};
  l.oldnodeid = fuse->NodeOf(kRootNodeId, "file");
  EXPECT_EQ(fuse->Call(FUSE_LINK, kRootNodeId, Cat({AsBytes(l), Cstr("../linked")})).error(), EINVAL);
  EXPECT_FALSE(std::filesystem::exists(tree.root + "/escaped"));
  EXPECT_FALSE(std::filesystem::exists(tree.root + "/moved"));
  EXPECT_FALSE(std::filesystem::exists(tree.root + "/linked"));
}

TEST_F(FuseSecurityTest, NamesWithoutTerminatorAreRefused) {
  std::vector<uint8_t> unterminated = {'f', 'i', 'l', 'e'};
  EXPECT_EQ(fuse->Call(FUSE_LOOKUP, kRootNodeId, unterminated).error(), EINVAL);
}

TEST_F(FuseSecurityTest, SymlinksComeBackAsLinksAndAreNeverFollowedOnTheHost) {
  // A link to a directory inside the share is still a link (O_NOFOLLOW /
  // RESOLVE_NO_SYMLINKS): the guest resolves it, not the host.
  auto in_share = fuse->Lookup(kRootNodeId, "to-dir");
  ASSERT_EQ(in_share.error(), 0);
  EXPECT_TRUE(S_ISLNK(in_share.As<fuse_entry_out>().attr.mode));
  // A link to / : a lookup *through* it is not a directory lookup.
  const uint64_t to_root = fuse->NodeOf(kRootNodeId, "to-root");
  auto a = fuse->Lookup(kRootNodeId, "to-root");
  EXPECT_TRUE(S_ISLNK(a.As<fuse_entry_out>().attr.mode));
  EXPECT_EQ(fuse->Lookup(to_root, "etc").error(), ENOTDIR);
  EXPECT_EQ(fuse->Call(FUSE_OPENDIR, to_root, AsBytes(fuse_open_in{})).error(), ENOTDIR);
  // Opening a link to a host file outside must not open that file: the
  // /proc/self/fd reopen is refused for anything but files and directories,
  // and the kernel answers ELOOP to reopening a link's O_PATH fd as well
  // (two layers: this expectation holds if either is removed).
  const uint64_t to_secret = fuse->NodeOf(kRootNodeId, "to-secret");
  fuse_open_in o{};
  auto opened = fuse->Call(FUSE_OPEN, to_secret, AsBytes(o));
  EXPECT_EQ(opened.error(), ELOOP);
  fuse_setattr_in s{};
  s.valid = FATTR_SIZE;
  EXPECT_NE(fuse->Call(FUSE_SETATTR, to_secret, AsBytes(s)).error(), 0);
  s.valid = FATTR_MODE;
  s.mode = 0777;
  EXPECT_NE(fuse->Call(FUSE_SETATTR, to_secret, AsBytes(s)).error(), 0);
  EXPECT_TRUE(SecretUntouched());
  struct stat st {};
  ASSERT_EQ(::stat((tree.root + "/secret").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 07777, 0777u);
}

TEST_F(FuseSecurityTest, NodeIdsNeverIssuedOrForgottenAreStale) {
  fuse_getattr_in g{};
  EXPECT_EQ(fuse->Call(FUSE_GETATTR, 12345, AsBytes(g)).error(), ESTALE);
  EXPECT_EQ(fuse->Call(FUSE_GETATTR, 0, AsBytes(g)).error(), ESTALE);
  EXPECT_EQ(fuse->Call(FUSE_GETATTR, ~0ull, AsBytes(g)).error(), ESTALE);
  EXPECT_EQ(fuse->Lookup(777, "file").error(), ESTALE);
  const uint64_t dir = fuse->NodeOf(kRootNodeId, "dir");
  fuse->Forget(dir, 1);
  EXPECT_EQ(fuse->Lookup(dir, "inner").error(), ESTALE);
  EXPECT_EQ(fuse->Call(FUSE_GETATTR, dir, AsBytes(g)).error(), ESTALE);
  // Forgetting the root, or more than was looked up, changes nothing.
  fuse->Forget(kRootNodeId, 1000);
  EXPECT_EQ(fuse->Call(FUSE_GETATTR, kRootNodeId, AsBytes(g)).error(), 0);
  // Handles: never issued, or of the other kind.
  EXPECT_EQ(fuse->Read(kRootNodeId, 999, 0, 10).error(), EBADF);
  auto od = fuse->Call(FUSE_OPENDIR, kRootNodeId, AsBytes(fuse_open_in{}));
  ASSERT_EQ(od.error(), 0);
  EXPECT_EQ(fuse->Read(kRootNodeId, od.As<fuse_open_out>().fh, 0, 10).error(), EBADF) << "a directory handle read as a file";
}

TEST_F(FuseSecurityTest, MalformedRequestsGetEinvalAndNothingElse) {
  fuse_in_header in{};
  in.opcode = FUSE_GETATTR;
  in.unique = 7;
  in.nodeid = kRootNodeId;
  // The header claims more than was sent (truncated), or less (padded).
  in.len = 200;
  auto r = fuse->Raw(Cat({AsBytes(in), AsBytes(fuse_getattr_in{})}));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_EQ(r.header().unique, 7u);
  in.len = sizeof in;
  EXPECT_EQ(fuse->Raw(Cat({AsBytes(in), AsBytes(fuse_getattr_in{})})).error(), EINVAL);
  // Shorter than a header: no unique to answer, no reply at all.
  EXPECT_TRUE(fuse->Raw({1, 2, 3}).bytes.empty());
  // Arguments shorter than their struct.
  EXPECT_EQ(fuse->Call(FUSE_SETATTR, kRootNodeId, std::vector<uint8_t>(10)).error(), EINVAL);
  EXPECT_EQ(fuse->Call(FUSE_READ, kRootNodeId, std::vector<uint8_t>(8)).error(), EINVAL);
  // WRITE whose size does not match its data, or exceeds max_write.
  const uint64_t file = fuse->NodeOf(kRootNodeId, "file");
  const uint64_t fh = fuse->Open(file, O_RDWR);
  fuse_write_in w{};
  w.fh = fh;
  w.size = 1000;
  EXPECT_EQ(fuse->Call(FUSE_WRITE, file, Cat({AsBytes(w), Cstr("short")})).error(), EINVAL);
  EXPECT_EQ(TempTree::Read(tree.share + "/file"), "inside");
  fuse_read_in rd{};
  rd.fh = fh;
  rd.size = kMaxWrite + 1;
  EXPECT_EQ(fuse->Call(FUSE_READ, file, AsBytes(rd)).error(), EINVAL);
  rd.offset = ~0ull;
  rd.size = 10;
  EXPECT_EQ(fuse->Call(FUSE_READ, file, AsBytes(rd)).error(), EINVAL);
}

TEST_F(FuseSecurityTest, RepliesNeverExceedTheGuestsBuffers) {
  std::string big(8192, 'b');
  TempTree::Write(tree.share + "/big", big);
  const uint64_t node = fuse->NodeOf(kRootNodeId, "big");
  const uint64_t fh = fuse->Open(node, O_RDONLY);
  // READ of 8 KiB into 100 bytes of buffers: 84 bytes of data.
  auto r = fuse->Read(node, fh, 0, 8192, 100);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.bytes.size(), 100u);
  // A reply that cannot shrink (an entry) into too little room: an error
  // header when that fits, nothing when not even a header does.
  auto e = fuse->Call(FUSE_LOOKUP, kRootNodeId, Cstr("file"), 64);
  EXPECT_EQ(e.bytes.size(), sizeof(fuse_out_header));
  EXPECT_EQ(e.error(), ERANGE);
  EXPECT_TRUE(fuse->Call(FUSE_LOOKUP, kRootNodeId, Cstr("file"), 8).bytes.empty());
  // READDIR into a small buffer stays inside it.
  auto od = fuse->Call(FUSE_OPENDIR, kRootNodeId, AsBytes(fuse_open_in{}));
  fuse_read_in rd{};
  rd.fh = od.As<fuse_open_out>().fh;
  rd.size = 4096;
  auto d = fuse->Call(FUSE_READDIR, kRootNodeId, AsBytes(rd), 80);
  EXPECT_LE(d.bytes.size(), 80u);
}

TEST_F(FuseSecurityTest, TablesAreBounded) {
  FuseClient small(tree.share, false, /*max_inodes=*/3, /*max_handles=*/1);
  ASSERT_EQ(small.Init().error(), 0);
  EXPECT_EQ(small.Lookup(kRootNodeId, "file").error(), 0);
  EXPECT_EQ(small.Lookup(kRootNodeId, "dir").error(), 0);
  EXPECT_EQ(small.Lookup(kRootNodeId, "to-dir").error(), ENFILE);
  EXPECT_EQ(small.Lookup(kRootNodeId, "file").error(), 0) << "a known inode needs no new slot";
  const uint64_t file = small.NodeOf(kRootNodeId, "file");
  small.Open(file, O_RDONLY);
  fuse_open_in o{};
  EXPECT_EQ(small.Call(FUSE_OPEN, file, AsBytes(o)).error(), ENFILE);
  EXPECT_EQ(small.fs().handles().size(), 1u);
}

TEST_F(FuseSecurityTest, ReadOnlyShareRefusesEveryChange) {
  FuseClient ro(tree.share, /*read_only=*/true);
  ASSERT_EQ(ro.Init().error(), 0);
  const uint64_t file = ro.NodeOf(kRootNodeId, "file");
  const uint64_t dir = ro.NodeOf(kRootNodeId, "dir");
  EXPECT_EQ(ro.Create(kRootNodeId, "new").error(), EROFS);
  EXPECT_EQ(ro.Mkdir(kRootNodeId, "newdir").error(), EROFS);
  fuse_mknod_in m{};
  m.mode = S_IFREG | 0644;
  EXPECT_EQ(ro.Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("node")})).error(), EROFS);
  EXPECT_EQ(ro.Call(FUSE_SYMLINK, kRootNodeId, Cat({Cstr("l"), Cstr("file")})).error(), EROFS);
  fuse_link_in l{};
  l.oldnodeid = file;
  EXPECT_EQ(ro.Call(FUSE_LINK, dir, Cat({AsBytes(l), Cstr("hard")})).error(), EROFS);
  EXPECT_EQ(ro.Call(FUSE_UNLINK, kRootNodeId, Cstr("file")).error(), EROFS);
  EXPECT_EQ(ro.Call(FUSE_RMDIR, kRootNodeId, Cstr("dir")).error(), EROFS);
  fuse_rename_in rn{};
  rn.newdir = kRootNodeId;
  EXPECT_EQ(ro.Call(FUSE_RENAME, kRootNodeId, Cat({AsBytes(rn), Cstr("file"), Cstr("moved")})).error(), EROFS);
  fuse_setattr_in s{};
  s.valid = FATTR_SIZE;
  EXPECT_EQ(ro.Call(FUSE_SETATTR, file, AsBytes(s)).error(), EROFS);
  fuse_open_in o{};
  o.flags = O_RDWR;
  EXPECT_EQ(ro.Call(FUSE_OPEN, file, AsBytes(o)).error(), EROFS);
  o.flags = O_RDONLY | O_TRUNC;
  EXPECT_EQ(ro.Call(FUSE_OPEN, file, AsBytes(o)).error(), EROFS);
  // Reading still works; a write through a read-only handle does not.
  const uint64_t fh = ro.Open(file, O_RDONLY);
  EXPECT_EQ(ro.Read(file, fh, 0, 6).Data(), "inside");
  EXPECT_EQ(ro.Write(file, fh, 0, "changed").error(), EROFS);
  fuse_access_in a{};
  a.mask = W_OK;
  EXPECT_EQ(ro.Call(FUSE_ACCESS, file, AsBytes(a)).error(), EROFS);
  EXPECT_EQ(TempTree::Read(tree.share + "/file"), "inside");
  EXPECT_FALSE(std::filesystem::exists(tree.share + "/new"));
  EXPECT_FALSE(std::filesystem::exists(tree.share + "/newdir"));
  EXPECT_TRUE(std::filesystem::exists(tree.share + "/dir"));
}

TEST_F(FuseSecurityTest, NoDeviceNodesAndNoHardLinkedDirectories) {
  fuse_mknod_in m{};
  m.mode = S_IFBLK | 0600;
  EXPECT_EQ(fuse->Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("blk")})).error(), EPERM);
  m.mode = S_IFSOCK | 0600;
  EXPECT_EQ(fuse->Call(FUSE_MKNOD, kRootNodeId, Cat({AsBytes(m), Cstr("sock")})).error(), EPERM);
  fuse_link_in l{};
  l.oldnodeid = fuse->NodeOf(kRootNodeId, "dir");
  EXPECT_EQ(fuse->Call(FUSE_LINK, kRootNodeId, Cat({AsBytes(l), Cstr("dirlink")})).error(), EPERM);
}

}  // namespace
}  // namespace hull::vmm::fuse
