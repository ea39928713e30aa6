#include <catch2/catch.hpp>

#include <malloc.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "fibredis/errors.hpp"
#include "fibredis/detail/resp/reader.hpp"

using fibredis::Reply;
using fibredis::ReplyReader;
using namespace std::string_literals;

namespace {

struct Sample {
  std::string wire;
  Reply expected;
};

std::vector<Sample> samples() {
  std::vector<Sample> s;
  s.push_back({"+OK\r\n", Reply::status("OK")});
  s.push_back({"+\r\n", Reply::status("")});
  s.push_back({"-ERR unknown command 'FOO'\r\n", Reply::error("ERR unknown command 'FOO'")});
  s.push_back({"-MOVED 3999 127.0.0.1:6381\r\n", Reply::error("MOVED 3999 127.0.0.1:6381")});
  s.push_back({":0\r\n", Reply::integer(0)});
  s.push_back({":-42\r\n", Reply::integer(-42)});
  s.push_back({":9223372036854775807\r\n", Reply::integer(9223372036854775807LL)});
  s.push_back({":-9223372036854775808\r\n", Reply::integer(-9223372036854775807LL - 1)});
  s.push_back({"$3\r\nfoo\r\n", Reply::string("foo")});
  s.push_back({"$0\r\n\r\n", Reply::string("")});
  s.push_back({"$-1\r\n", Reply::nil()});
  s.push_back({"$8\r\na\r\nb\0\r\nc\r\n"s, Reply::string("a\r\nb\0\r\nc"s)});
  s.push_back({"*-1\r\n", Reply::nil()});
  s.push_back({"*0\r\n", Reply::array({})});
  s.push_back({"*3\r\n$1\r\na\r\n:2\r\n$-1\r\n",
               Reply::array({Reply::string("a"), Reply::integer(2), Reply::nil()})});
  // Three levels deep, with empty and nil arrays and errors at every level, like CLUSTER SLOTS.
  s.push_back({"*4\r\n"
               "*2\r\n:0\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n*0\r\n"
               "*-1\r\n"
               "-ERR inner\r\n"
               "*1\r\n*1\r\n*2\r\n+deep\r\n$-1\r\n",
               Reply::array({
                   Reply::array({Reply::integer(0),
                                 Reply::array({Reply::string("127.0.0.1"), Reply::integer(7000),
                                               Reply::array({})})}),
                   Reply::nil(),
                   Reply::error("ERR inner"),
                   Reply::array({Reply::array(
                       {Reply::array({Reply::status("deep"), Reply::nil()})})}),
               })});
  return s;
}

// Feeds `wire` in the given pieces, pulling after each; expects exactly one reply, after the last.
Reply read_in_pieces(const std::string& wire, const std::vector<std::size_t>& cuts) {
  ReplyReader reader;
  std::error_code ec;
  std::size_t pos = 0;
  std::optional<Reply> got;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : wire.size();
    reader.feed(wire.data() + pos, end - pos);
    pos = end;
    auto r = reader.next(ec);
    REQUIRE_FALSE(ec);
    if (r) {
      REQUIRE(end == wire.size());
      REQUIRE_FALSE(got.has_value());
      got = std::move(r);
    }
  }
  REQUIRE(got.has_value());
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK_FALSE(ec);
  return std::move(*got);
}

// A reader that has just failed on `wire`.
void expect_protocol_error(const std::string& wire) {
  INFO("wire: " << wire);
  ReplyReader reader;
  std::error_code ec;
  reader.feed(wire.data(), wire.size());
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
  CHECK(reader.has_error());
  CHECK_FALSE(reader.error_text().empty());
  // Stays in error, even when fed valid input afterwards.
  reader.feed("+OK\r\n", 5);
  ec.clear();
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
  CHECK(reader.has_error());
}

}  // namespace

TEST_CASE("ReplyReader reads every RESP2 type", "[reader]") {
  for (const Sample& s : samples()) {
    INFO("wire: " << s.wire);
    ReplyReader reader;
    std::error_code ec;
    CHECK_FALSE(reader.next(ec).has_value());  // nothing fed yet
    CHECK_FALSE(ec);
    reader.feed(s.wire.data(), s.wire.size());
    auto r = reader.next(ec);
    CHECK_FALSE(ec);
    REQUIRE(r.has_value());
    CHECK(*r == s.expected);
    CHECK_FALSE(reader.has_error());
    CHECK(reader.error_text().empty());
  }
}

TEST_CASE("ReplyReader reads a reply split at every byte boundary", "[reader]") {
  for (const Sample& s : samples()) {
    INFO("wire: " << s.wire);
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < s.wire.size(); ++i) every.push_back(i);
    CHECK(read_in_pieces(s.wire, every) == s.expected);  // byte by byte
    for (std::size_t cut = 0; cut <= s.wire.size(); ++cut) {
      INFO("cut at " << cut);
      CHECK(read_in_pieces(s.wire, {cut}) == s.expected);  // two pieces
    }
  }
}

TEST_CASE("ReplyReader returns many replies from one feed, in order", "[reader]") {
  std::string all;
  std::vector<Reply> expected;
  for (int round = 0; round < 3; ++round) {
    for (const Sample& s : samples()) {
      all += s.wire;
      expected.push_back(s.expected);
    }
  }
  ReplyReader reader;
  std::error_code ec;
  reader.feed(all.data(), all.size());
  for (const Reply& want : expected) {
    auto got = reader.next(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(got.has_value());
    CHECK(*got == want);
  }
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK_FALSE(ec);

  // The same stream in odd-sized chunks, pulling everything available after each feed.
  ReplyReader chunked;
  std::vector<Reply> got;
  for (std::size_t pos = 0; pos < all.size(); pos += 7) {
    chunked.feed(all.data() + pos, std::min<std::size_t>(7, all.size() - pos));
    while (auto r = chunked.next(ec)) got.push_back(std::move(*r));
    REQUIRE_FALSE(ec);
  }
  CHECK(got == expected);
}

TEST_CASE("ReplyReader reads a 1 MiB bulk string", "[reader]") {
  std::string payload(1 << 20, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 4099) payload[i] = static_cast<char>(i % 251);
  const std::string wire = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n+OK\r\n";

  ReplyReader reader;
  std::error_code ec;
  std::optional<Reply> got;
  for (std::size_t pos = 0; pos < wire.size(); pos += 16384) {
    reader.feed(wire.data() + pos, std::min<std::size_t>(16384, wire.size() - pos));
    if (!got) got = reader.next(ec);
    REQUIRE_FALSE(ec);
  }
  REQUIRE(got.has_value());
  CHECK(got->is_string());
  CHECK(got->str().size() == payload.size());
  CHECK(got->str() == payload);
  auto ok = reader.next(ec);
  REQUIRE(ok.has_value());
  CHECK(*ok == Reply::status("OK"));
}

TEST_CASE("ReplyReader reads a large array", "[reader]") {
  std::string wire = "*100000\r\n";
  for (int i = 0; i < 100000; ++i) wire += ":" + std::to_string(i) + "\r\n";
  ReplyReader reader;
  std::error_code ec;
  reader.feed(wire.data(), wire.size());
  auto r = reader.next(ec);
  REQUIRE(r.has_value());
  REQUIRE(r->elements().size() == 100000);
  CHECK(r->elements()[0] == Reply::integer(0));
  CHECK(r->elements()[99999] == Reply::integer(99999));
}

TEST_CASE("ReplyReader fails on malformed input and stays failed", "[reader]") {
  expect_protocol_error("?x\r\n");
  expect_protocol_error("$abc\r\n");
  expect_protocol_error("$-2\r\n");
  expect_protocol_error(":12x\r\n");
  expect_protocol_error(":\r\n");
  expect_protocol_error(":99999999999999999999\r\n");
  expect_protocol_error("*abc\r\n");
  expect_protocol_error("*-2\r\n");
  expect_protocol_error("$3\r\nfooXY");           // payload not followed by CRLF
  expect_protocol_error("*2\r\n:1\r\n!oops\r\n");  // fails mid-array, after one element
  expect_protocol_error("*1\r\n*2\r\n$1\r\na\r\n?\r\n");  // fails in a nested array
  std::string too_deep;  // hiredis 0.14 supports 7 levels of nesting below the root
  for (int i = 0; i < 9; ++i) too_deep += "*1\r\n";
  expect_protocol_error(too_deep + ":1\r\n");
}

TEST_CASE("ReplyReader delivers replies that precede the bad bytes", "[reader]") {
  ReplyReader reader;
  std::error_code ec;
  const std::string wire = "+OK\r\n:5\r\n?bad\r\n";
  reader.feed(wire.data(), wire.size());
  CHECK(reader.next(ec) == Reply::status("OK"));
  CHECK(reader.next(ec) == Reply::integer(5));
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
  CHECK(reader.error_text().find("?") != std::string::npos);
}

TEST_CASE("ReplyReader reports its own error text for a bad bulk terminator", "[reader]") {
  ReplyReader reader;
  std::error_code ec;
  reader.feed("$1\r\nab\r\n", 8);
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
  CHECK(reader.error_text() == "Bad bulk string terminator");
}

TEST_CASE("ReplyReader destroyed mid-reply releases the partial tree", "[reader]") {
  // Run under AddressSanitizer: LeakSanitizer fails the run if anything here leaks.
  {
    ReplyReader reader;
    std::error_code ec;
    const std::string part = "*3\r\n*2\r\n$5\r\nhello\r\n*2\r\n:1\r\n$100\r\nabc";
    reader.feed(part.data(), part.size());
    CHECK_FALSE(reader.next(ec).has_value());
    CHECK_FALSE(ec);
  }
  {
    // Errs mid-array: hiredis frees the partial tree at once; the reader is then destroyed.
    ReplyReader reader;
    std::error_code ec;
    const std::string part = "*3\r\n*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n*2\r\n:1\r\n:x\r\n";
    reader.feed(part.data(), part.size());
    CHECK_FALSE(reader.next(ec).has_value());
    CHECK(ec == fibredis::errc::protocol_error);
  }
}

TEST_CASE("ReplyReader is movable, even mid-reply", "[reader]") {
  ReplyReader a;
  std::error_code ec;
  a.feed("*2\r\n$3\r\nfoo\r\n", 13);
  CHECK_FALSE(a.next(ec).has_value());
  ReplyReader b(std::move(a));
  b.feed(":7\r\n", 4);
  auto r = b.next(ec);
  REQUIRE(r.has_value());
  CHECK(*r == Reply::array({Reply::string("foo"), Reply::integer(7)}));

  ReplyReader c;
  c.feed("*1\r\n", 4);
  CHECK_FALSE(c.next(ec).has_value());
  c = std::move(b);  // drops c's half-built reply
  c.feed("+x\r\n", 4);
  CHECK(c.next(ec) == Reply::status("x"));
}

// ---- max_reply_bytes: what a server can make the reader hold ------------------------------------

namespace {

// Feeds `wire` to a reader limited to `limit` bytes; expects no reply and a protocol error that
// names the limit, after exactly these bytes (nothing more needs to arrive for the refusal).
void expect_refused(std::size_t limit, const std::string& wire) {
  INFO("wire: " << wire.substr(0, 40));
  ReplyReader reader(limit);
  std::error_code ec;
  reader.feed(wire.data(), wire.size());
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
  CHECK(reader.has_error());
  CHECK(reader.error_text().find("max_reply_bytes (" + std::to_string(limit) + ")") !=
        std::string::npos);
  // Stays failed: a valid reply fed afterwards is not read.
  reader.feed("+OK\r\n", 5);
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
}

}  // namespace

TEST_CASE("ReplyReader refuses a bulk string announced past max_reply_bytes", "[reader][limits]") {
  // Only the header has arrived: refused before any of the 2,000 payload bytes is buffered.
  expect_refused(1024, "$2000\r\n");
  expect_refused(1024, "$2000\r\nabc");
  expect_refused(1024, "*2\r\n:1\r\n$1022\r\n");  // the array's bytes so far count as well
  expect_refused(1024, "$9223372036854775807\r\n");
  std::string big_bulk = "$1025\r\n" + std::string(1025, 'x') + "\r\n";
  expect_refused(1024, big_bulk);
}

TEST_CASE("ReplyReader refuses an array announced past max_reply_bytes", "[reader][limits]") {
  expect_refused(1024, "*1000\r\n");        // 1,000 elements need at least 3,000 bytes
  expect_refused(1024, "*2147483647\r\n");
  expect_refused(1024, "*1\r\n*2\r\n*400\r\n");  // nested: the outer ones count too
  // Small elements that add up: refused once the total passes the limit.
  std::string many = "*300\r\n";
  for (int i = 0; i < 300; ++i) many += "$5\r\nhello\r\n";
  expect_refused(1024, many);
}

TEST_CASE("ReplyReader refuses an endless line past max_reply_bytes", "[reader][limits]") {
  expect_refused(1024, "+" + std::string(2000, 'a'));
  expect_refused(1024, ":" + std::string(2000, '1'));
}

TEST_CASE("ReplyReader reads replies up to max_reply_bytes, each counted on its own",
          "[reader][limits]") {
  ReplyReader reader(1024);
  std::error_code ec;
  const std::string payload(1000, 'v');
  const std::string bulk = "$1000\r\n" + payload + "\r\n";
  std::string array = "*100\r\n";
  for (int i = 0; i < 100; ++i) array += ":7\r\n";
  for (int round = 0; round < 3; ++round) {  // the count restarts with every reply
    reader.feed(bulk.data(), bulk.size());
    auto r = reader.next(ec);
    REQUIRE(r.has_value());
    CHECK(r->str() == payload);
    reader.feed(array.data(), array.size());
    r = reader.next(ec);
    REQUIRE(r.has_value());
    CHECK(r->elements().size() == 100);
  }
  CHECK_FALSE(ec);
  CHECK_FALSE(reader.has_error());
}

TEST_CASE("ReplyReader's default limit is Redis's proto-max-bulk-len", "[reader][limits]") {
  CHECK(ReplyReader::kDefaultMaxReplyBytes == std::size_t{512} * 1024 * 1024);
  ReplyReader reader;
  std::error_code ec;
  reader.feed("$536870913\r\n", 12);  // 512 MiB + 1
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK(ec == fibredis::errc::protocol_error);
}

// Under ASan, malloc is the sanitizer's and mallinfo2 does not see it.
#if !defined(__SANITIZE_ADDRESS__) && !defined(FIBREDIS_ASAN)

TEST_CASE("ReplyReader reserves array storage only for the bytes received", "[reader][limits]") {
  // Seven nested "*65536" headers, 56 bytes: reserving min(n, 65536) each took 31.5 MiB.
  std::string nested;
  for (int i = 0; i < 7; ++i) nested += "*65536\r\n";
  ReplyReader reader;
  std::error_code ec;
  const std::size_t before = mallinfo2().uordblks;
  reader.feed(nested.data(), nested.size());
  CHECK_FALSE(reader.next(ec).has_value());
  CHECK_FALSE(ec);
  const std::size_t after = mallinfo2().uordblks;
  CHECK(after - before < 64 * 1024);
}
#endif

TEST_CASE("ReplyReader's limit check leaves a malformed bulk length to hiredis",
          "[reader][limits]") {
  // Found by tests/fuzz/fuzz_reader.cpp: hiredis refuses a length with 20 digits ("Bad bulk string
  // length"); fed one byte at a time, the limit check used to read it first and say "exceeds".
  const std::string wire = "$00000090000000000009\r\nabc";
  for (std::size_t step : {wire.size(), std::size_t{1}}) {
    ReplyReader reader;
    std::error_code ec;
    for (std::size_t pos = 0; pos < wire.size() && !ec; pos += step) {
      reader.feed(wire.data() + pos, std::min(step, wire.size() - pos));
      CHECK_FALSE(reader.next(ec).has_value());
    }
    CHECK(ec == fibredis::errc::protocol_error);
    CHECK(reader.error_text() == "Bad bulk string length");
  }
}
