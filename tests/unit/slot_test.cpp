// Key → slot: CRC16-XMODEM and hash tags, against the spec's vectors and values a Redis 7.0
// server returned for CLUSTER KEYSLOT.
#include <catch2/catch.hpp>

#include <fibredis/cluster/slot.hpp>

#include <string>
#include <string_view>

using namespace std::string_view_literals;
using fibredis::crc16;
using fibredis::hash_tag;
using fibredis::key_slot;

TEST_CASE("crc16 is CRC16-XMODEM", "[slot]") {
  CHECK(crc16("123456789") == 0x31C3);  // the spec's check value
  CHECK(crc16("") == 0);                // init 0, no final xor
  CHECK(crc16("\x01"sv) == 0x1021);     // one bit in: the polynomial
  CHECK(crc16("A") == 0x58E5);
}

TEST_CASE("key_slot matches CLUSTER KEYSLOT", "[slot]") {
  CHECK(fibredis::kSlotCount == 16384);
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("user1000") == 3443);
  CHECK(key_slot("123456789") == 12739);
  CHECK(key_slot("") == 0);
  CHECK(key_slot("{") == 4092);
  CHECK(key_slot("}") == 12090);
  CHECK(key_slot("{}") == 15257);
}

TEST_CASE("key_slot is binary-safe", "[slot]") {
  CHECK(key_slot("a\0b"sv) == 8383);
  CHECK(key_slot("\xff\xfe\x00\x01"sv) == 9169);
  CHECK(key_slot("\0"sv) == 0);
  CHECK(key_slot("{\0}x"sv) == key_slot("\0"sv));  // a NUL is a valid one-byte tag
  CHECK(key_slot("a\0b"sv) != key_slot("a"sv));    // nothing stops at the NUL
  const std::string big(100000, '\xAB');
  CHECK(key_slot(big) < fibredis::kSlotCount);
}

TEST_CASE("hash tags follow the spec's rules", "[slot]") {
  CHECK(hash_tag("{user1000}.following") == "user1000");
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("{user1000}.followers") == key_slot("{user1000}.following"));

  // An empty tag: the whole key is hashed.
  CHECK(hash_tag("foo{}{bar}") == "foo{}{bar}");
  CHECK(key_slot("foo{}{bar}") == 8363);
  // The tag ends at the first '}' after the first '{'.
  CHECK(hash_tag("foo{{bar}}zap") == "{bar");
  CHECK(key_slot("foo{{bar}}zap") == 4015);
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));
  // Only the first tag counts.
  CHECK(hash_tag("foo{bar}{zap}") == "bar");
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));
  // No '}' after the '{', or a '}' only before it: no tag.
  CHECK(hash_tag("foo{bar") == "foo{bar");
  CHECK(hash_tag("}foo{bar") == "}foo{bar");
  CHECK(hash_tag("}{x}") == "x");
  CHECK(hash_tag("plain") == "plain");
  CHECK(hash_tag("") == "");
  // The tag is a view into the key, not a copy.
  const std::string_view key = "a{b}c";
  CHECK(hash_tag(key).data() == key.data() + 2);
}
