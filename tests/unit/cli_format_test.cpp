// fibredis-cli's pure parts: redis-cli's reply forms and its argument splitting (tools/cli/).
#include <catch2/catch.hpp>

#include "cli/reply_format.hpp"
#include "cli/split_args.hpp"

using fibredis::Reply;
using fibredis::cli::format_raw;
using fibredis::cli::format_standard;
using fibredis::cli::split_args;

TEST_CASE("standard form: scalars as redis-cli prints them", "[cli]") {
  CHECK(format_standard(Reply::integer(-7)) == "(integer) -7\n");
  CHECK(format_standard(Reply::nil()) == "(nil)\n");
  CHECK(format_standard(Reply::status("OK")) == "OK\n");
  CHECK(format_standard(Reply::error("ERR nope")) == "(error) ERR nope\n");
  CHECK(format_standard(Reply::string("a\"b\\c\n\t\x01\xff")) == "\"a\\\"b\\\\c\\n\\t\\x01\\xff\"\n");
  CHECK(format_standard(Reply::array({})) == "(empty array)\n");
}

TEST_CASE("standard form: arrays numbered, numbers right-aligned, nesting indented", "[cli]") {
  std::vector<Reply> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(Reply::integer(i));
  const std::string t = format_standard(Reply::array(std::move(ten)));
  CHECK(t.starts_with(" 1) (integer) 0\n 2) (integer) 1\n"));
  CHECK(t.ends_with("10) (integer) 9\n"));
  // XRANGE-like: [[id, [f, v]]] — redis-cli indents each level by its numbers' width + 2.
  const Reply nested = Reply::array({Reply::array(
      {Reply::string("1-0"), Reply::array({Reply::string("f"), Reply::string("v")})}), Reply::nil()});
  CHECK(format_standard(nested) ==
        "1) 1) \"1-0\"\n"
        "   2) 1) \"f\"\n"
        "      2) \"v\"\n"
        "2) (nil)\n");
}

TEST_CASE("raw form: bare values, one per line, errors followed by an empty line", "[cli]") {
  CHECK(format_raw(Reply::string("bar")) == "bar\n");
  CHECK(format_raw(Reply::integer(3)) == "3\n");
  CHECK(format_raw(Reply::nil()) == "\n");
  CHECK(format_raw(Reply::error("ERR x")) == "ERR x\n\n");
  CHECK(format_raw(Reply::array({Reply::string("a"), Reply::nil(), Reply::integer(1)})) == "a\n\n1\n");
}

TEST_CASE("split_args follows redis-cli's quoting", "[cli]") {
  using V = std::vector<std::string>;
  CHECK(split_args("  set  k   v ") == V{"set", "k", "v"});
  CHECK(split_args("set k \"a b\\n\\x41\"") == V{"set", "k", "a b\nA"});
  CHECK(split_args("set k 'it\\'s \"x\"'") == V{"set", "k", "it's \"x\""});
  CHECK(split_args("set k \"\"") == V{"set", "k", ""});
  CHECK(split_args("") == V{});
  CHECK_FALSE(split_args("set k \"open").has_value());
  CHECK_FALSE(split_args("set k 'open").has_value());
  CHECK_FALSE(split_args("set k \"a\"b").has_value());
}
