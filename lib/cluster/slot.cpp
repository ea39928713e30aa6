#include <fibredis/cluster/slot.hpp>

#include <array>

namespace fibredis {
namespace {

// Byte-at-a-time table for the MSB-first CRC: entry i is the CRC register after shifting the
// byte i through eight rounds of the polynomial. Built by the compiler, not pasted.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned reg = i << 8;
    for (int bit = 0; bit < 8; ++bit) reg = (reg & 0x8000U) ? (reg << 1) ^ 0x1021U : reg << 1;
    table[i] = static_cast<std::uint16_t>(reg);
  }
  return table;
}

constexpr auto kCrc16Table = make_crc16_table();
static_assert(kCrc16Table[1] == 0x1021 && kCrc16Table[255] == 0x1EF0);

}  // namespace

std::uint16_t crc16(std::string_view bytes) noexcept {
  unsigned reg = 0;
  for (const char c : bytes) {
    const unsigned index = ((reg >> 8) ^ static_cast<unsigned char>(c)) & 0xFFU;
    reg = ((reg << 8) ^ kCrc16Table[index]) & 0xFFFFU;
  }
  return static_cast<std::uint16_t>(reg);
}

std::string_view hash_tag(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) noexcept {
  // 16384 is a power of two, so the modulo is a mask.
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) & (kSlotCount - 1));
}

}  // namespace fibredis
