// A FUSE "kernel" for unit tests: builds requests the way the Linux driver
// does (fuse_in_header + arguments), hands them to a FuseServer serving a
// temporary directory, and decodes the replies. Also writes the hostile
// requests a malicious guest could send.
#pragma once

#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fuse/fuse_server.h"
#include "fuse/passthrough_fs.h"

namespace hull::vmm::fuse::testing {

// A temporary directory tree: `root` holds the share (share/) and a file
// beside it (secret) that no request may reach.
struct TempTree {
  TempTree() {
    char tmpl[] = "/tmp/hull-fuse-test-XXXXXX";
    root = ::mkdtemp(tmpl);
    share = root + "/share";
    std::filesystem::create_directory(share);
    Write(root + "/secret", "outside the share");
  }
  ~TempTree() { std::filesystem::remove_all(root); }
  static void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string root;
  std::string share;
};

template <typename T>
std::vector<uint8_t> AsBytes(const T& v) {
  std::vector<uint8_t> b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}
inline std::vector<uint8_t> Cstr(const std::string& s) {
  std::vector<uint8_t> b(s.begin(), s.end());
  b.push_back(0);
  return b;
}
inline std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Reply {
  std::vector<uint8_t> bytes;
  int error() const {  // positive errno, 0 for success, -1 for no reply
    if (bytes.size() < sizeof(fuse_out_header)) return -1;
    fuse_out_header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    return -h.error;
  }
  fuse_out_header header() const {
    fuse_out_header h{};
    std::memcpy(&h, bytes.data(), std::min(sizeof h, bytes.size()));
    return h;
  }
  template <typename T>
  T As() const {
    T v{};
    EXPECT_GE(bytes.size(), sizeof(fuse_out_header) + sizeof(T));
    std::memcpy(&v, bytes.data() + sizeof(fuse_out_header),
                std::min(sizeof v, bytes.size() - std::min(bytes.size(), sizeof(fuse_out_header))));
    return v;
  }
  std::string Data() const {
    return bytes.size() > sizeof(fuse_out_header)
               ? std::string(bytes.begin() + sizeof(fuse_out_header), bytes.end())
               : std::string();
  }
};

class FuseClient {
 public:
  explicit FuseClient(const std::string& share, bool read_only = false, size_t max_inodes = 1 << 16,
                      size_t max_handles = 1 << 12)
      : fs_(FsOptions{share, read_only, max_inodes, max_handles}), server_(fs_) {}

  PassthroughFs& fs() { return fs_; }
  FuseServer& server() { return server_; }

  Reply Raw(std::vector<uint8_t> request, size_t capacity = 2 << 20) {
    return Reply{server_.Handle(request, capacity)};
  }
  Reply Call(uint32_t opcode, uint64_t nodeid, const std::vector<uint8_t>& body, size_t capacity = 2 << 20) {
    fuse_in_header in{};
    in.len = static_cast<uint32_t>(sizeof in + body.size());
    in.opcode = opcode;
    in.unique = ++unique_;
    in.nodeid = nodeid;
    in.uid = uid_;
    in.gid = gid_;
    Reply r = Raw(Cat({AsBytes(in), body}), capacity);
    if (r.bytes.size() >= sizeof(fuse_out_header)) {
      EXPECT_EQ(r.header().unique, unique_);
      EXPECT_EQ(r.header().len, r.bytes.size());
    }
    return r;
  }

  Reply Init() {
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = 37;  // Linux 6.1
    init.max_readahead = 128 << 10;
    init.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS;
    return Call(FUSE_INIT, 0, AsBytes(init));
  }
  Reply Lookup(uint64_t parent, const std::string& name) { return Call(FUSE_LOOKUP, parent, Cstr(name)); }
  // The node id of `name` under `parent` (0 and a test failure if absent).
  uint64_t NodeOf(uint64_t parent, const std::string& name) {
    Reply r = Lookup(parent, name);
    EXPECT_EQ(r.error(), 0) << name;
    return r.error() == 0 ? r.As<fuse_entry_out>().nodeid : 0;
  }
  uint64_t Open(uint64_t node, uint32_t flags) {
    fuse_open_in o{};
    o.flags = flags;
    Reply r = Call(FUSE_OPEN, node, AsBytes(o));
    EXPECT_EQ(r.error(), 0);
    return r.As<fuse_open_out>().fh;
  }
  Reply Read(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size, size_t capacity = 2 << 20) {
    fuse_read_in rd{};
    rd.fh = fh;
    rd.offset = offset;
    rd.size = size;
    return Call(FUSE_READ, node, AsBytes(rd), capacity);
  }
  Reply Write(uint64_t node, uint64_t fh, uint64_t offset, const std::string& data) {
    fuse_write_in w{};
    w.fh = fh;
    w.offset = offset;
    w.size = static_cast<uint32_t>(data.size());
    return Call(FUSE_WRITE, node, Cat({AsBytes(w), std::vector<uint8_t>(data.begin(), data.end())}));
  }
  Reply Create(uint64_t parent, const std::string& name, uint32_t mode = 0644, uint32_t flags = O_RDWR) {
    fuse_create_in c{};
    c.flags = flags;
    c.mode = S_IFREG | mode;
    return Call(FUSE_CREATE, parent, Cat({AsBytes(c), Cstr(name)}));
  }
  Reply Mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755) {
    fuse_mkdir_in m{};
    m.mode = mode;
    return Call(FUSE_MKDIR, parent, Cat({AsBytes(m), Cstr(name)}));
  }
  void Forget(uint64_t node, uint64_t n) {
    fuse_forget_in f{};
    f.nlookup = n;
    EXPECT_EQ(Call(FUSE_FORGET, node, AsBytes(f)).error(), -1);  // no reply
  }

 private:
  PassthroughFs fs_;
  FuseServer server_;
  uint64_t unique_ = 100;
  // Read once: requests are also built under a seccomp filter (tests of the
  // virtio-fs thread's), which need not allow these calls.
  uint32_t uid_ = ::geteuid();
  uint32_t gid_ = ::getegid();
};

}  // namespace hull::vmm::fuse::testing
