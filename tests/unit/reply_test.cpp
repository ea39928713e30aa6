#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fibredis/errors.hpp"
#include "fibredis/resp/reply.hpp"

using fibredis::Reply;

TEST_CASE("Reply types and accessors", "[reply]") {
  CHECK(Reply().is_nil());
  CHECK(Reply::nil().type() == Reply::Type::Nil);
  CHECK(Reply::status("OK").is_status());
  CHECK(Reply::error("ERR x").is_error());
  CHECK(Reply::string("s").is_string());
  CHECK(Reply::integer(3).is_integer());
  CHECK(Reply::array({}).is_array());
  CHECK(Reply::integer(3).str().empty());
  Reply s = Reply::string("abc");
  CHECK(s.take_str() == "abc");
}

TEST_CASE("value() passes non-errors through and throws the matching error", "[reply]") {
  Reply ok = Reply::status("OK");
  CHECK(&ok.value() == &ok);
  Reply moved = Reply::string("v").value();  // rvalue overload
  CHECK(moved.str() == "v");

  CHECK_THROWS_AS(Reply::error("ERR unknown command").value(), fibredis::ResponseError);
  CHECK_THROWS_AS(Reply::error("WRONGPASS invalid username-password pair").value(),
                  fibredis::AuthenticationError);
  CHECK_THROWS_AS(Reply::error("NOAUTH Authentication required.").value(),
                  fibredis::AuthenticationError);
  CHECK_THROWS_AS(Reply::error("CLUSTERDOWN The cluster is down").value(),
                  fibredis::ClusterDownError);
  CHECK_THROWS_AS(Reply::error("TRYAGAIN Multiple keys request during rehashing of slot").value(),
                  fibredis::TryAgainError);
  CHECK_THROWS_AS(
      Reply::error("CROSSSLOT Keys in request don't hash to the same slot").value(),
      fibredis::CrossSlotError);
  CHECK_THROWS_WITH(Reply::error("WRONGTYPE Operation against a key").value(),
                    "WRONGTYPE Operation against a key");
  const Reply e = Reply::error("ERR x");
  CHECK_THROWS_AS(e.value(), fibredis::ResponseError);
}

TEST_CASE("as_string and as_optional_string", "[reply]") {
  CHECK(Reply::string("v").as_string() == "v");
  CHECK(Reply::status("OK").as_string() == "OK");
  CHECK_THROWS_AS(Reply::integer(1).as_string(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::nil().as_string(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::array({}).as_string(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("ERR x").as_string(), fibredis::ResponseError);

  CHECK(Reply::nil().as_optional_string() == std::nullopt);
  CHECK(Reply::string("").as_optional_string() == std::string());
  CHECK_THROWS_AS(Reply::integer(1).as_optional_string(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("NOAUTH x").as_optional_string(), fibredis::AuthenticationError);
}

TEST_CASE("as_integer accepts integers and integer strings", "[reply]") {
  CHECK(Reply::integer(-5).as_integer() == -5);
  CHECK(Reply::string("12345").as_integer() == 12345);
  CHECK(Reply::string("-9223372036854775808").as_integer() ==
        std::numeric_limits<long long>::min());
  CHECK_THROWS_AS(Reply::string("12a").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string(" 1").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("99999999999999999999").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("1.5").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::nil().as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::status("OK").as_integer(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("ERR value is not an integer").as_integer(),
                  fibredis::ResponseError);
  CHECK(Reply::nil().as_optional_integer() == std::nullopt);
  CHECK(Reply::integer(7).as_optional_integer() == 7);
}

TEST_CASE("as_double accepts Redis float formatting", "[reply]") {
  CHECK(Reply::string("1.5").as_double() == 1.5);
  CHECK(Reply::string("-0.25").as_double() == -0.25);
  CHECK(Reply::string("10").as_double() == 10.0);
  CHECK(Reply::integer(3).as_double() == 3.0);
  CHECK(Reply::string("3.0000000000000001e-05").as_double() == 3.0000000000000001e-05);
  CHECK(Reply::string("1e+300").as_double() == 1e300);
  CHECK(Reply::string("0.10000000000000001").as_double() == 0.1);
  CHECK(Reply::string("inf").as_double() == std::numeric_limits<double>::infinity());
  CHECK(Reply::string("+inf").as_double() == std::numeric_limits<double>::infinity());
  CHECK(Reply::string("-inf").as_double() == -std::numeric_limits<double>::infinity());
  CHECK(Reply::string("+1.5").as_double() == 1.5);
  CHECK_THROWS_AS(Reply::string("nan").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("+").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("+-1").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("1.5x").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::string("abc").as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::array({}).as_double(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("ERR not a float").as_double(), fibredis::ResponseError);
  CHECK(Reply::nil().as_optional_double() == std::nullopt);
  CHECK(Reply::string("2.5").as_optional_double() == 2.5);
}

TEST_CASE("as_bool", "[reply]") {
  CHECK(Reply::integer(1).as_bool());
  CHECK(Reply::integer(2).as_bool());
  CHECK_FALSE(Reply::integer(0).as_bool());
  CHECK(Reply::status("OK").as_bool());
  CHECK_FALSE(Reply::nil().as_bool());
  CHECK(Reply::string("1").as_bool());
  CHECK_FALSE(Reply::string("0").as_bool());
  CHECK_THROWS_AS(Reply::string("yes").as_bool(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::status("QUEUED").as_bool(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::array({}).as_bool(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("READONLY You can't write").as_bool(), fibredis::ResponseError);
}

TEST_CASE("string vectors", "[reply]") {
  Reply a = Reply::array({Reply::string("a"), Reply::status("b"), Reply::string("")});
  CHECK(a.as_string_vector() == std::vector<std::string>{"a", "b", ""});
  CHECK(Reply::array({}).as_string_vector().empty());
  CHECK_THROWS_AS(Reply::array({Reply::string("a"), Reply::nil()}).as_string_vector(),
                  fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::array({Reply::integer(1)}).as_string_vector(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::array({Reply::error("ERR in exec")}).as_string_vector(),
                  fibredis::ResponseError);
  CHECK_THROWS_AS(Reply::string("a").as_string_vector(), fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::nil().as_string_vector(), fibredis::ProtocolError);

  Reply m = Reply::array({Reply::string("a"), Reply::nil(), Reply::status("c")});
  auto v = m.as_optional_string_vector();
  REQUIRE(v.size() == 3);
  CHECK(v[0] == "a");
  CHECK(v[1] == std::nullopt);
  CHECK(v[2] == "c");
  CHECK_THROWS_AS(Reply::array({Reply::array({})}).as_optional_string_vector(),
                  fibredis::ProtocolError);
  CHECK_THROWS_AS(Reply::error("CLUSTERDOWN x").as_optional_string_vector(),
                  fibredis::ClusterDownError);
}

TEST_CASE("operator== compares type and value", "[reply]") {
  CHECK(Reply::nil() == Reply());
  CHECK(Reply::string("a") == Reply::string("a"));
  CHECK(Reply::string("a") != Reply::string("b"));
  CHECK(Reply::string("OK") != Reply::status("OK"));
  CHECK(Reply::error("ERR") != Reply::status("ERR"));
  CHECK(Reply::integer(1) == Reply::integer(1));
  CHECK(Reply::integer(1) != Reply::integer(2));
  CHECK(Reply::integer(0) != Reply::nil());
  CHECK(Reply::string("") != Reply::nil());
  CHECK(Reply::array({}) != Reply::nil());
  CHECK(Reply::array({Reply::integer(1), Reply::array({Reply::string("x")})}) ==
        Reply::array({Reply::integer(1), Reply::array({Reply::string("x")})}));
  CHECK(Reply::array({Reply::integer(1)}) != Reply::array({Reply::integer(1), Reply::nil()}));
  CHECK(Reply::array({Reply::array({Reply::string("x")})}) !=
        Reply::array({Reply::array({Reply::string("y")})}));
}

TEST_CASE("to_string debug form", "[reply]") {
  CHECK(Reply::array({Reply::string("a"), Reply::integer(1), Reply::nil(),
                      Reply::error("ERR x")})
            .to_string() == R"(["a", 1, nil, (error) ERR x])");
  CHECK(Reply::status("OK").to_string() == "OK");
  CHECK(Reply::integer(-3).to_string() == "-3");
  CHECK(Reply::array({}).to_string() == "[]");
  CHECK(Reply::array({Reply::array({Reply::integer(1)}), Reply::array({})}).to_string() ==
        "[[1], []]");
  CHECK(Reply::string(std::string("q\"\\\r\n\t\0\x7f", 8)).to_string() ==
        R"("q\"\\\r\n\t\x00\x7f")");
}
