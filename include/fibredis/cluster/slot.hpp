// Key → hash slot, as the Redis Cluster specification defines it ("Keys distribution model").
//
// A key's slot is CRC16(key) mod 16384, where only the hash tag is hashed when the key has one:
// that is how callers force related keys ("{user1000}.following", "{user1000}.followers") into
// one slot so multi-key commands, transactions and scripts work on them.
#pragma once

#include <cstdint>
#include <string_view>

namespace fibredis {

inline constexpr std::uint16_t kSlotCount = 16384;

/// CRC16-XMODEM (poly 0x1021, init 0, no reflection, no final xor) as the Redis Cluster spec
/// defines for key hashing; crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view bytes) noexcept;

/// The part of the key that is hashed: the bytes between the first '{' and the first '}' after
/// it, if that span is non-empty; otherwise the whole key. So "foo{}{bar}" hashes whole,
/// "foo{{bar}}" hashes "{bar", "foo{bar}{zap}" hashes "bar". Binary-safe.
std::string_view hash_tag(std::string_view key) noexcept;

/// The slot (0..16383) that owns `key`.
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace fibredis
