#include "jailer/shared_libraries.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }

 private:
  int fd_;
};

void ReadAt(int fd, void* buf, size_t size, off_t offset, const fs::path& file) {
  if (::pread(fd, buf, size, offset) != static_cast<ssize_t>(size)) {
    throw JailerError(file.string() + " is not a complete 64-bit ELF file");
  }
}

}  // namespace

fs::path ReadElfInterpreter(const fs::path& exec_file) {
  Fd fd(::open(exec_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw JailerError::FromErrno("cannot read " + exec_file.string(), errno);
  Elf64_Ehdr eh{};
  ReadAt(fd.get(), &eh, sizeof eh, 0, exec_file);
  if (std::string(reinterpret_cast<char*>(eh.e_ident), 4) != "\177ELF" || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    throw JailerError(exec_file.string() + " is not a 64-bit ELF executable");
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096) {
    throw JailerError(exec_file.string() + " has a malformed program header table");
  }
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    ReadAt(fd.get(), &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph), exec_file);
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_filesz < 2 || ph.p_filesz > 4096) throw JailerError(exec_file.string() + ": bad PT_INTERP size");
    std::string interp(ph.p_filesz, '\0');
    ReadAt(fd.get(), interp.data(), interp.size(), static_cast<off_t>(ph.p_offset), exec_file);
    interp.resize(interp.find('\0') == std::string::npos ? interp.size() : interp.find('\0'));
    if (interp.empty() || interp[0] != '/') throw JailerError(exec_file.string() + ": PT_INTERP is not absolute");
    return interp;
  }
  return {};
}

std::vector<fs::path> ParseLdList(const std::string& output) {
  std::vector<fs::path> libs;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    std::string path;
    if (auto arrow = line.find(" => "); arrow != std::string::npos) {
      std::string rest = line.substr(arrow + 4);
      if (rest.rfind("not found", 0) == 0) {
        throw JailerError("the VMM's library " + line.substr(0, arrow) +
                          " is not found: install it or fix the library path");
      }
      path = rest.substr(0, rest.find(' '));
    } else {
      path = line.substr(0, line.find(' '));
    }
    if (path.empty() || path[0] != '/') continue;  // linux-vdso.so.1 has no file
    libs.emplace_back(path);
  }
  return libs;
}

std::vector<fs::path> SharedLibrariesOf(const fs::path& exec_file) {
  const fs::path interp = ReadElfInterpreter(exec_file);
  if (interp.empty()) return {};
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw JailerError::FromErrno("pipe", errno);
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) throw JailerError::FromErrno("fork", errno);
  if (pid == 0) {
    ::dup2(write_end.get(), 1);
    const char* argv[] = {interp.c_str(), "--list", exec_file.c_str(), nullptr};
    const char* envp[] = {nullptr};
    ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    ::_exit(127);
  }
  ::close(write_end.release());
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw JailerError("`" + interp.string() + " --list " + exec_file.string() +
                      "` failed: cannot tell which libraries the VMM needs");
  }
  auto libs = ParseLdList(output);
  bool has_interp = false;
  for (const auto& l : libs) has_interp |= l == interp;
  if (!has_interp) libs.push_back(interp);
  return libs;
}

}  // namespace hull::vmm::jailer
