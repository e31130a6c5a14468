// The files a dynamically linked program needs at exec time inside the jail:
// its ELF interpreter (PT_INTERP) and the libraries the interpreter resolves
// (glibc's `ld.so --list`, what ldd prints). hull-vmm loads nothing later
// (no dlopen), so these are all it needs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hull::vmm::jailer {

// The interpreter path of an ELF executable; empty for a static one.
// Throws JailerError when the file is not a readable 64-bit ELF.
std::filesystem::path ReadElfInterpreter(const std::filesystem::path& exec_file);

// Absolute library paths from `ld.so --list` output (lines such as
// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and
// "/lib64/ld-linux-x86-64.so.2 (0x...)"); throws JailerError for a
// "not found" library.
std::vector<std::filesystem::path> ParseLdList(const std::string& output);

// Interpreter + libraries of `exec_file` (runs the interpreter with --list).
std::vector<std::filesystem::path> SharedLibrariesOf(const std::filesystem::path& exec_file);

}  // namespace hull::vmm::jailer
