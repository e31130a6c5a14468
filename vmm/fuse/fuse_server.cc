#include "fuse/fuse_server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace hull::vmm::fuse {
namespace {

// Reads the request body front to back; every read is bounds-checked.
class BodyReader {
 public:
  explicit BodyReader(std::span<const uint8_t> body) : body_(body) {}

  template <typename T>
  bool Read(T& out) {
    if (body_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&out, body_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // Reads a prefix of a struct whose older protocol versions were shorter:
  // what is there, zero for the rest.
  template <typename T>
  void ReadUpTo(T& out) {
    out = {};
    const size_t n = std::min(sizeof(T), body_.size() - pos_);
    std::memcpy(&out, body_.data() + pos_, n);
    pos_ += n;
  }
  // A NUL-terminated string that must end inside the body.
  bool ReadString(std::string_view& out) {
    const auto rest = body_.subspan(pos_);
    const auto* nul = static_cast<const uint8_t*>(std::memchr(rest.data(), 0, rest.size()));
    if (nul == nullptr) return false;
    out = std::string_view(reinterpret_cast<const char*>(rest.data()), static_cast<size_t>(nul - rest.data()));
    pos_ += out.size() + 1;
    return true;
  }
  std::span<const uint8_t> Rest() const { return body_.subspan(pos_); }

 private:
  std::span<const uint8_t> body_;
  size_t pos_ = 0;
};

std::vector<uint8_t> Reply(uint64_t unique, int error, std::span<const uint8_t> payload = {}) {
  fuse_out_header out{};
  out.len = static_cast<uint32_t>(sizeof out + payload.size());
  out.error = -error;
  out.unique = unique;
  std::vector<uint8_t> bytes(out.len);
  std::memcpy(bytes.data(), &out, sizeof out);
  if (!payload.empty()) std::memcpy(bytes.data() + sizeof out, payload.data(), payload.size());
  return bytes;
}

template <typename T>
std::span<const uint8_t> Bytes(const T& value, size_t size = sizeof(T)) {
  return {reinterpret_cast<const uint8_t*>(&value), size};
}

std::vector<uint8_t> Error(uint64_t unique, int error) { return Reply(unique, error); }

// A result struct, or the error.
template <typename T>
std::vector<uint8_t> Result(uint64_t unique, int error, const T& value) {
  return error ? Error(unique, error) : Reply(unique, 0, Bytes(value));
}

// READ/READDIR: the payload size to produce, what the guest asked but never
// more than its writable buffers hold after the header.
uint32_t PayloadSize(uint32_t asked, size_t reply_capacity) {
  const size_t room = reply_capacity > sizeof(fuse_out_header) ? reply_capacity - sizeof(fuse_out_header) : 0;
  return static_cast<uint32_t>(std::min<size_t>(asked, room));
}

// A reply whose payload was appended after room for the header: fill that in.
std::vector<uint8_t> WithHeader(uint64_t unique, std::vector<uint8_t> reply) {
  const fuse_out_header out{static_cast<uint32_t>(reply.size()), 0, unique};
  std::memcpy(reply.data(), &out, sizeof out);
  return reply;
}

constexpr uint32_t kWantedInitFlags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_PARALLEL_DIROPS |
                                      FUSE_AUTO_INVAL_DATA | FUSE_ATOMIC_O_TRUNC;
constexpr uint32_t kMaxReadahead = 1u << 20;

}  // namespace

namespace {

// Copies `bytes` into `buffers` from byte `offset` on; returns how many fitted.
size_t CopyInto(std::span<const std::span<uint8_t>> buffers, size_t offset, std::span<const uint8_t> bytes) {
  size_t done = 0;
  for (auto b : buffers) {
    if (done == bytes.size()) break;
    if (offset >= b.size()) {
      offset -= b.size();
      continue;
    }
    const size_t n = std::min(b.size() - offset, bytes.size() - done);
    std::memcpy(b.data() + offset, bytes.data() + done, n);
    done += n;
    offset = 0;
  }
  return done;
}

}  // namespace

size_t FuseServer::Handle(std::span<const uint8_t> request, std::span<const std::span<uint8_t>> reply_buffers) {
  size_t capacity = 0;
  for (auto b : reply_buffers) capacity += b.size();
  fuse_in_header in{};
  if (request.size() >= sizeof in) {
    std::memcpy(&in, request.data(), sizeof in);
    if (in.opcode == FUSE_READ && in.len == request.size() && initialized_) {
      if (auto n = DirectRead(in, request.subspan(sizeof in), reply_buffers, capacity)) return *n;
    }
  }
  const std::vector<uint8_t> reply = Handle(request, capacity);
  return CopyInto(reply_buffers, 0, reply);
}

std::optional<size_t> FuseServer::DirectRead(const fuse_in_header& in, std::span<const uint8_t> body,
                                             std::span<const std::span<uint8_t>> reply_buffers, size_t capacity) {
  fuse_read_in rd{};
  if (body.size() < sizeof rd || capacity < sizeof(fuse_out_header)) return std::nullopt;
  std::memcpy(&rd, body.data(), sizeof rd);
  if (rd.size > kMaxWrite) return std::nullopt;
  // The data lands after the header's 16 bytes, never beyond the buffers.
  size_t want = std::min<size_t>(rd.size, capacity - sizeof(fuse_out_header));
  std::vector<iovec> data;
  size_t skip = sizeof(fuse_out_header);
  for (auto b : reply_buffers) {
    if (want == 0) break;
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    const size_t n = std::min(b.size() - skip, want);
    data.push_back({b.data() + skip, n});
    want -= n;
    skip = 0;
  }
  size_t got = 0;
  const int err = fs_.ReadInto(rd.fh, rd.offset, data, got);
  fuse_out_header out{};
  out.unique = in.unique;
  out.error = -err;
  out.len = static_cast<uint32_t>(sizeof out + (err ? 0 : got));
  CopyInto(reply_buffers, 0, {reinterpret_cast<const uint8_t*>(&out), sizeof out});
  return out.len;
}

std::vector<uint8_t> FuseServer::Handle(std::span<const uint8_t> request, size_t reply_capacity) {
  fuse_in_header in{};
  if (request.size() < sizeof in) return {};  // no unique to answer to: nothing the driver could match
  std::memcpy(&in, request.data(), sizeof in);
  std::vector<uint8_t> reply;
  if (in.len != request.size()) {
    reply = Error(in.unique, EINVAL);  // truncated, padded or oversized request
  } else {
    reply = Dispatch(in, request.subspan(sizeof in), reply_capacity);
  }
  if (reply.size() > reply_capacity) {
    reply = reply_capacity >= sizeof(fuse_out_header) ? Error(in.unique, ERANGE) : std::vector<uint8_t>{};
  }
  return reply;
}

std::vector<uint8_t> FuseServer::Dispatch(const fuse_in_header& in, std::span<const uint8_t> body,
                                          size_t reply_capacity) {
  const uint64_t u = in.unique;
  BodyReader r(body);
  const Caller who{in.uid, in.gid};
  if (in.opcode == FUSE_INIT) {
    fuse_init_in init{};
    r.ReadUpTo(init);  // 16 bytes before protocol 7.36, 64 since
    if (init.major < FUSE_KERNEL_VERSION) return Error(u, EPROTO);
    fuse_init_out out{};
    out.major = FUSE_KERNEL_VERSION;
    if (init.major > FUSE_KERNEL_VERSION) return Reply(u, 0, Bytes(out, FUSE_COMPAT_INIT_OUT_SIZE));  // driver retries with 7
    out.minor = std::min<uint32_t>(init.minor, FUSE_KERNEL_MINOR_VERSION);
    out.max_readahead = std::min(init.max_readahead, kMaxReadahead);
    out.flags = init.flags & kWantedInitFlags;
    out.max_background = 64;
    out.congestion_threshold = 48;
    out.max_write = kMaxWrite;
    out.time_gran = 1;
    out.max_pages = kMaxPages;
    initialized_ = true;
    const size_t size = init.minor < 5 ? FUSE_COMPAT_INIT_OUT_SIZE : init.minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof out;
    return Reply(u, 0, Bytes(out, size));
  }
  if (!initialized_) return Error(u, EIO);

  switch (in.opcode) {
    case FUSE_DESTROY:
      fs_.Destroy();
      initialized_ = false;
      return Reply(u, 0);
    case FUSE_FORGET: {
      fuse_forget_in f{};
      if (r.Read(f)) fs_.Forget(in.nodeid, f.nlookup);
      return {};
    }
    case FUSE_BATCH_FORGET: {
      fuse_batch_forget_in b{};
      if (!r.Read(b)) return {};
      // The count is the guest's: only what the body holds is read.
      for (uint32_t i = 0; i < b.count; ++i) {
        fuse_forget_one one{};
        if (!r.Read(one)) break;
        fs_.Forget(one.nodeid, one.nlookup);
      }
      return {};
    }
    case FUSE_INTERRUPT:
      return {};  // requests are served synchronously: nothing is pending
    case FUSE_LOOKUP: {
      std::string_view name;
      if (!r.ReadString(name)) return Error(u, EINVAL);
      fuse_entry_out e{};
      return Result(u, fs_.Lookup(in.nodeid, name, e), e);
    }
    case FUSE_GETATTR: {
      fuse_attr_out out{};
      out.attr_valid = kCacheSeconds;
      return Result(u, fs_.GetAttr(in.nodeid, out.attr), out);
    }
    case FUSE_SETATTR: {
      fuse_setattr_in s{};
      if (!r.Read(s)) return Error(u, EINVAL);
      fuse_attr_out out{};
      out.attr_valid = kCacheSeconds;
      return Result(u, fs_.SetAttr(in.nodeid, s, out.attr), out);
    }
    case FUSE_READLINK: {
      std::string target;
      if (int err = fs_.ReadLink(in.nodeid, target)) return Error(u, err);
      return Reply(u, 0, {reinterpret_cast<const uint8_t*>(target.data()), target.size()});
    }
    case FUSE_SYMLINK: {
      std::string_view name, target;
      if (!r.ReadString(name) || !r.ReadString(target)) return Error(u, EINVAL);
      fuse_entry_out e{};
      return Result(u, fs_.Symlink(in.nodeid, name, target, who, e), e);
    }
    case FUSE_MKNOD: {
      fuse_mknod_in m{};
      std::string_view name;
      if (!r.Read(m) || !r.ReadString(name)) return Error(u, EINVAL);
      fuse_entry_out e{};
      return Result(u, fs_.Mknod(in.nodeid, name, m.mode, who, e), e);
    }
    case FUSE_MKDIR: {
      fuse_mkdir_in m{};
      std::string_view name;
      if (!r.Read(m) || !r.ReadString(name)) return Error(u, EINVAL);
      fuse_entry_out e{};
      return Result(u, fs_.Mkdir(in.nodeid, name, m.mode, who, e), e);
    }
    case FUSE_UNLINK:
    case FUSE_RMDIR: {
      std::string_view name;
      if (!r.ReadString(name)) return Error(u, EINVAL);
      return Error(u, in.opcode == FUSE_UNLINK ? fs_.Unlink(in.nodeid, name) : fs_.Rmdir(in.nodeid, name));
    }
    case FUSE_RENAME:
    case FUSE_RENAME2: {
      uint64_t new_dir = 0;
      uint32_t flags = 0;
      if (in.opcode == FUSE_RENAME) {
        fuse_rename_in rn{};
        if (!r.Read(rn)) return Error(u, EINVAL);
        new_dir = rn.newdir;
      } else {
        fuse_rename2_in rn{};
        if (!r.Read(rn)) return Error(u, EINVAL);
        new_dir = rn.newdir;
        flags = rn.flags;
      }
      std::string_view old_name, new_name;
      if (!r.ReadString(old_name) || !r.ReadString(new_name)) return Error(u, EINVAL);
      return Error(u, fs_.Rename(in.nodeid, old_name, new_dir, new_name, flags));
    }
    case FUSE_LINK: {
      fuse_link_in l{};
      std::string_view name;
      if (!r.Read(l) || !r.ReadString(name)) return Error(u, EINVAL);
      fuse_entry_out e{};
      return Result(u, fs_.Link(l.oldnodeid, in.nodeid, name, e), e);
    }
    case FUSE_OPEN: {
      fuse_open_in o{};
      if (!r.Read(o)) return Error(u, EINVAL);
      fuse_open_out out{};
      return Result(u, fs_.Open(in.nodeid, o.flags, out.fh), out);
    }
    case FUSE_CREATE: {
      fuse_create_in c{};
      std::string_view name;
      if (!r.Read(c) || !r.ReadString(name)) return Error(u, EINVAL);
      struct {
        fuse_entry_out entry;
        fuse_open_out open;
      } out{};
      static_assert(sizeof out == sizeof(fuse_entry_out) + sizeof(fuse_open_out));
      return Result(u, fs_.Create(in.nodeid, name, c.flags, c.mode, who, out.entry, out.open.fh), out);
    }
    case FUSE_READ: {
      fuse_read_in rd{};
      if (!r.Read(rd)) return Error(u, EINVAL);
      if (rd.size > kMaxWrite) return Error(u, EINVAL);
      const uint32_t size = PayloadSize(rd.size, reply_capacity);
      std::vector<uint8_t> reply(sizeof(fuse_out_header));
      reply.reserve(sizeof(fuse_out_header) + size);
      if (int err = fs_.Read(rd.fh, rd.offset, size, reply)) return Error(u, err);
      return WithHeader(u, std::move(reply));
    }
    case FUSE_WRITE: {
      fuse_write_in w{};
      if (!r.Read(w)) return Error(u, EINVAL);
      const auto data = r.Rest();
      if (w.size > kMaxWrite || w.size != data.size()) return Error(u, EINVAL);
      fuse_write_out out{};
      return Result(u, fs_.Write(w.fh, w.offset, data, out.size), out);
    }
    case FUSE_FLUSH:
      return Reply(u, 0);  // data goes straight to the host file: nothing buffered here
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR: {
      fuse_release_in rl{};
      if (!r.Read(rl)) return Error(u, EINVAL);
      return Error(u, in.opcode == FUSE_RELEASE ? fs_.Release(rl.fh) : fs_.ReleaseDir(rl.fh));
    }
    case FUSE_FSYNC:
    case FUSE_FSYNCDIR: {
      fuse_fsync_in f{};
      if (!r.Read(f)) return Error(u, EINVAL);
      return Error(u, fs_.Fsync(f.fh, (f.fsync_flags & 1) != 0,
                                in.opcode == FUSE_FSYNC ? HandleKind::kFile : HandleKind::kDirectory));
    }
    case FUSE_OPENDIR: {
      fuse_open_in o{};
      if (!r.Read(o)) return Error(u, EINVAL);
      fuse_open_out out{};
      return Result(u, fs_.OpenDir(in.nodeid, out.fh), out);
    }
    case FUSE_READDIR: {
      fuse_read_in rd{};
      if (!r.Read(rd)) return Error(u, EINVAL);
      if (rd.size > kMaxWrite) return Error(u, EINVAL);
      std::vector<uint8_t> reply(sizeof(fuse_out_header));
      if (int err = fs_.ReadDir(rd.fh, rd.offset, PayloadSize(rd.size, reply_capacity), reply)) return Error(u, err);
      return WithHeader(u, std::move(reply));
    }
    case FUSE_STATFS: {
      fuse_statfs_out out{};
      return Result(u, fs_.StatFs(in.nodeid, out.st), out);
    }
    case FUSE_ACCESS: {
      fuse_access_in a{};
      if (!r.Read(a)) return Error(u, EINVAL);
      return Error(u, fs_.Access(in.nodeid, a.mask));
    }
    case FUSE_LSEEK: {
      fuse_lseek_in l{};
      if (!r.Read(l)) return Error(u, EINVAL);
      fuse_lseek_out out{};
      return Result(u, fs_.Lseek(l.fh, l.offset, l.whence, out.offset), out);
    }
    case FUSE_FALLOCATE: {
      fuse_fallocate_in f{};
      if (!r.Read(f)) return Error(u, EINVAL);
      return Error(u, fs_.Fallocate(f.fh, f.offset, f.length, f.mode));
    }
    default:
      // GETXATTR, LISTXATTR, SETXATTR, REMOVEXATTR, READDIRPLUS (never
      // offered), locks, ioctl, poll, ...: the driver stops asking.
      return Error(u, ENOSYS);
  }
}

}  // namespace hull::vmm::fuse
