#include "cpio_reader.h"

namespace hull::guest_test {
namespace {

constexpr size_t kHeaderSize = 110;  // "070701" + 13 fields of 8 hex digits

size_t Align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

uint32_t HexField(const std::string& archive, size_t at, int index) {
  const std::string hex = archive.substr(at + 6 + 8 * index, 8);
  size_t used = 0;
  unsigned long value = std::stoul(hex, &used, 16);
  if (used != 8) throw CpioError("bad hex field in cpio header at offset " + std::to_string(at));
  return static_cast<uint32_t>(value);
}

}  // namespace

std::vector<CpioEntry> ReadCpio(const std::string& archive) {
  std::vector<CpioEntry> entries;
  size_t at = 0;
  while (true) {
    if (at + kHeaderSize > archive.size()) throw CpioError("archive ends without a TRAILER!!!");
    if (archive.compare(at, 6, "070701") != 0)
      throw CpioError("no newc magic at offset " + std::to_string(at));
    CpioEntry e;
    e.ino = HexField(archive, at, 0);
    e.mode = HexField(archive, at, 1);
    e.uid = HexField(archive, at, 2);
    e.gid = HexField(archive, at, 3);
    e.nlink = HexField(archive, at, 4);
    e.mtime = HexField(archive, at, 5);
    const uint32_t file_size = HexField(archive, at, 6);
    e.rdev_major = HexField(archive, at, 9);
    e.rdev_minor = HexField(archive, at, 10);
    const uint32_t name_size = HexField(archive, at, 11);
    if (name_size == 0 || at + kHeaderSize + name_size > archive.size())
      throw CpioError("truncated name at offset " + std::to_string(at));
    e.name = archive.substr(at + kHeaderSize, name_size - 1);
    const size_t data_at = Align4(at + kHeaderSize + name_size);
    if (data_at + file_size > archive.size()) throw CpioError("truncated data of " + e.name);
    e.data = archive.substr(data_at, file_size);
    at = Align4(data_at + file_size);
    if (e.name == "TRAILER!!!") return entries;
    entries.push_back(std::move(e));
  }
}

}  // namespace hull::guest_test
