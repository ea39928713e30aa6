// fibredis-proxy's control language and fault board (tools/proxy/fault_board.hpp), without a proxy.
#include <catch2/catch.hpp>

#include "proxy/fault_board.hpp"

using namespace fibredis::proxy;
using namespace std::chrono_literals;

namespace {

FaultBoard two_routes() {
  FaultBoard b;
  b.add_route("client");
  b.add_route("bus");
  return b;
}

}  // namespace

TEST_CASE("fault board: FAULT without a route applies to every route, with one to that route", "[unit][proxy]") {
  FaultBoard b = two_routes();
  BoardEffect e;
  REQUIRE(b.apply({"fault", "blackhole"}, e).ok);
  CHECK(b.faults(0).fault == Fault::blackhole);
  CHECK(b.faults(1).fault == Fault::blackhole);
  CHECK(e.changed.size() == 2);
  CHECK(e.healed.empty());

  // Leaving blackhole heals (connections with holes must be reset), only on the named route.
  REQUIRE(b.apply({"FAULT", "none", "bus"}, e).ok);
  CHECK(b.faults(0).fault == Fault::blackhole);
  CHECK(b.faults(1).fault == Fault::none);
  CHECK(e.healed == std::vector<std::size_t>{1});
}

TEST_CASE("fault board: DELAY per direction, CLEAR resets everything", "[unit][proxy]") {
  FaultBoard b = two_routes();
  BoardEffect e;
  REQUIRE(b.apply({"delay", "up", "7", "client"}, e).ok);
  CHECK(b.faults(0).up_delay == 7ms);
  CHECK(b.faults(0).down_delay == 0ms);
  CHECK(b.faults(1).up_delay == 0ms);
  REQUIRE(b.apply({"delay", "both", "3"}, e).ok);
  CHECK(b.faults(1).down_delay == 3ms);
  REQUIRE(b.apply({"fault", "split"}, e).ok);
  REQUIRE(b.apply({"clear", "client"}, e).ok);
  CHECK(b.faults(0).fault == Fault::none);
  CHECK(b.faults(0).up_delay == 0ms);
  CHECK(b.faults(1).fault == Fault::split);
  CHECK(b.faults(1).down_delay == 3ms);
}

TEST_CASE("fault board: bad commands are errors that say why, and change nothing", "[unit][proxy]") {
  FaultBoard b = two_routes();
  BoardEffect e;
  ControlReply r = b.apply({"fault", "explode"}, e);
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("unknown fault 'explode'") != std::string::npos);
  r = b.apply({"delay", "up", "-1"}, e);
  CHECK_FALSE(r.ok);
  r = b.apply({"delay", "sideways", "5"}, e);
  CHECK_FALSE(r.ok);
  r = b.apply({"fault", "stall", "nosuchroute"}, e);
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("routes: client, bus") != std::string::npos);
  CHECK(b.faults(0).fault == Fault::none);
  CHECK(e.changed.empty());
  CHECK_FALSE(b.apply({"launch"}, e).ok);
  CHECK_THROWS(b.add_route("client"));
  CHECK_THROWS(b.add_route("has space"));
}

TEST_CASE("fault board: RESET names the routes to reset, STATUS asks the caller", "[unit][proxy]") {
  FaultBoard b = two_routes();
  BoardEffect e;
  REQUIRE(b.apply({"reset", "bus"}, e).ok);
  CHECK(e.reset == std::vector<std::size_t>{1});
  REQUIRE(b.apply({"status"}, e).ok);
  CHECK(e.status);
  CHECK(b.apply({"ping"}, e).text == "PONG");
}

TEST_CASE("control requests: RESP arrays and inline lines, split anywhere", "[unit][proxy]") {
  const std::string wire = "*3\r\n$5\r\nFAULT\r\n$5\r\nstall\r\n$6\r\nclient\r\nDELAY both 5\r\nPING\n";
  // Fed one byte at a time, the same requests come out as fed whole.
  std::string buf;
  std::vector<std::vector<std::string>> got;
  for (char c : wire) {
    buf.push_back(c);
    REQUIRE(take_requests(buf, got));
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0] == std::vector<std::string>{"FAULT", "stall", "client"});
  CHECK(got[1] == std::vector<std::string>{"DELAY", "both", "5"});
  CHECK(got[2] == std::vector<std::string>{"PING"});
  CHECK(buf.empty());

  std::string bad = "*2\r\n:5\r\n";
  std::vector<std::vector<std::string>> none;
  CHECK_FALSE(take_requests(bad, none));
  std::string huge(5000, 'x');  // no newline and past the size bound
  CHECK_FALSE(take_requests(huge, none));
}

TEST_CASE("control replies are RESP", "[unit][proxy]") {
  CHECK(encode_reply({true, "OK", false}) == "+OK\r\n");
  CHECK(encode_reply({false, "ERR no", false}) == "-ERR no\r\n");
  CHECK(encode_reply({true, "a\nb\n", true}) == "$4\r\na\nb\n\r\n");
}

TEST_CASE("fault board: FAULT ... FROM picks connections by source address", "[unit][proxy]") {
  FaultBoard b = two_routes();
  BoardEffect e;
  REQUIRE(b.apply({"fault", "blackhole", "bus", "from", "127.0.1.3"}, e).ok);
  CHECK(b.faults(1).fault == Fault::blackhole);
  CHECK(b.faults(1).from == "127.0.1.3");
  CHECK(b.faults(0).fault == Fault::none);
  // Another source: connections of the first one that lost bytes must be reset.
  REQUIRE(b.apply({"FAULT", "blackhole", "bus", "FROM", "127.0.1.4"}, e).ok);
  CHECK(e.healed == std::vector<std::size_t>{1});
  REQUIRE(b.apply({"fault", "blackhole", "from", "127.0.1.5"}, e).ok);  // every route
  CHECK(b.faults(0).from == "127.0.1.5");
  CHECK_FALSE(b.apply({"fault", "refuse", "from", "127.0.1.5"}, e).ok);
  CHECK_FALSE(b.apply({"fault", "stall", "bus", "from"}, e).ok);
  REQUIRE(b.apply({"clear"}, e).ok);
  CHECK(b.faults(1).from.empty());
}
