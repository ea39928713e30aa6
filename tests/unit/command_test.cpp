#include <catch2/catch.hpp>

#include <charconv>
#include <climits>
#include <limits>
#include <string>
#include <vector>

#include "fibredis/errors.hpp"
#include "fibredis/resp/command.hpp"

using fibredis::Command;

namespace {

double parse(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE(ec == std::errc());
  REQUIRE(ptr == s.data() + s.size());
  return v;
}

std::string encode(const Command& c) {
  std::string out;
  c.encode_to(out);
  CHECK(out.size() == c.encoded_size());
  return out;
}

}  // namespace

TEST_CASE("Command encodes a typical command as a RESP array of bulk strings", "[command]") {
  Command c{"SET", "key", "value"};
  CHECK(encode(c) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  CHECK(c.size() == 3);
  CHECK_FALSE(c.empty());
  CHECK(c.name() == "SET");
  CHECK(c[0] == "SET");
  CHECK(c[1] == "key");
  CHECK(c[2] == "value");
}

TEST_CASE("Command builds with chained arg() and args()", "[command]") {
  std::vector<std::string> keys{"k1", "k2", "k3"};
  Command c;
  c.arg("MGET").args(keys);
  CHECK(encode(c) == "*4\r\n$4\r\nMGET\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\nk3\r\n");
  Command from_range(keys);
  CHECK(from_range.size() == 3);
  CHECK(from_range[2] == "k3");
}

TEST_CASE("Command is binary-safe", "[command]") {
  const std::string binary("a\0b\r\nc", 6);
  Command c{"SET", binary, "\r\n"};
  CHECK(c[1] == binary);
  CHECK(c[1].size() == 6);
  CHECK(c[2] == "\r\n");
  using namespace std::string_literals;
  CHECK(encode(c) == "*3\r\n$3\r\nSET\r\n$6\r\na\0b\r\nc\r\n$2\r\n\r\n\r\n"s);
}

TEST_CASE("Command encodes an empty argument", "[command]") {
  Command c{"SET", "k", ""};
  CHECK(c[2].empty());
  CHECK(encode(c) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST_CASE("An empty Command encodes as an empty array", "[command]") {
  Command c;
  CHECK(c.empty());
  CHECK(c.name().empty());
  CHECK(encode(c) == "*0\r\n");
}

TEST_CASE("Command formats integers", "[command]") {
  Command c;
  c.arg("X").arg(0).arg(-42).arg(LLONG_MIN).arg(LLONG_MAX).arg(ULLONG_MAX).arg(7u).arg(8L).arg(9UL);
  CHECK(c[1] == "0");
  CHECK(c[2] == "-42");
  CHECK(c[3] == "-9223372036854775808");
  CHECK(c[4] == "9223372036854775807");
  CHECK(c[5] == "18446744073709551615");
  CHECK(c[6] == "7");
  CHECK(c[7] == "8");
  CHECK(c[8] == "9");
  encode(c);
}

TEST_CASE("Command formats doubles in shortest round-trip form", "[command]") {
  Command c;
  c.arg("ZADD").arg(1.5).arg(0.1).arg(-2.0).arg(std::numeric_limits<double>::infinity())
      .arg(-std::numeric_limits<double>::infinity()).arg(1e300).arg(5e-324);
  CHECK(c[1] == "1.5");
  CHECK(c[2] == "0.1");
  CHECK(parse(c[2]) == 0.1);
  CHECK(c[3] == "-2");
  CHECK(c[4] == "inf");
  CHECK(c[5] == "-inf");
  CHECK(parse(c[6]) == 1e300);
  CHECK(parse(c[7]) == 5e-324);
  const double third = 1.0 / 3.0;
  c.arg(third);
  CHECK(parse(c[8]) == third);
  encode(c);
}

TEST_CASE("Command rejects NaN and leaves the command unchanged", "[command]") {
  Command c{"ZADD", "z"};
  CHECK_THROWS_AS(c.arg(std::numeric_limits<double>::quiet_NaN()), fibredis::UsageError);
  CHECK(c.size() == 2);
  CHECK(encode(c) == "*2\r\n$4\r\nZADD\r\n$1\r\nz\r\n");
}

TEST_CASE("Command accepts an argument that views its own buffer", "[command]") {
  Command c{"ECHO", "abc"};
  for (int i = 0; i < 20; ++i) c.arg(c[1]);  // forces several reallocations
  CHECK(c.size() == 22);
  for (std::size_t i = 1; i < c.size(); ++i) CHECK(c[i] == "abc");
  encode(c);
}

TEST_CASE("Command encoded_size matches for many and long arguments", "[command]") {
  Command c{"RPUSH", "list"};
  for (int i = 0; i < 1000; ++i) c.arg(std::string(static_cast<std::size_t>(i), 'x'));
  CHECK(c.size() == 1002);
  CHECK(c[1001].size() == 999);
  std::string out = "prefix";
  c.encode_to(out);
  CHECK(out.size() == 6 + c.encoded_size());
  CHECK(out.compare(0, 14, "prefix*1002\r\n$") == 0);
}

TEST_CASE("Command keeps its blocking hint", "[command]") {
  Command c{"BLPOP", "q", "5"};
  CHECK_FALSE(c.blocking.has_value());
  c.blocking = std::chrono::seconds(5);
  CHECK(*c.blocking == std::chrono::milliseconds(5000));
  Command copy = c;
  CHECK(copy.blocking == c.blocking);
  CHECK(copy[1] == "q");
}
