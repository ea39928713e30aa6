// The example programs, built by meson, run against the test servers: each must do what its usage
// block promises. (Their paths come from FIBREDIS_EXAMPLES_DIR, set by tests/meson.build.)
#include <catch2/catch.hpp>

#include "support/helpers.hpp"

#include "support/servers.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
using fibredis::test::run_example;

// The integer after " NAME=" (or "NAME=" at its start) in the output's last line that starts with
// "clients=": blocking_swarm's one summary line.
long field(const std::string& all, const std::string& name) {
  std::size_t line = all.rfind("\nclients=");
  line = line == std::string::npos ? (all.starts_with("clients=") ? 0 : line) : line + 1;
  REQUIRE(line != std::string::npos);
  const std::string out = all.substr(line, all.find('\n', line) - line);
  const std::string needle = name + "=";
  std::size_t at = out.find(needle);
  while (at != std::string::npos && at > 0 && out[at - 1] != ' ' && out[at - 1] != '\n')
    at = out.find(needle, at + 1);
  REQUIRE(at != std::string::npos);
  const std::size_t begin = at + needle.size();
  std::size_t end = begin;
  if (end < out.size() && out[end] == '-') ++end;
  while (end < out.size() && out[end] >= '0' && out[end] <= '9') ++end;
  REQUIRE(end > begin);
  return std::stol(out.substr(begin, end - begin));
}
}  // namespace

TEST_CASE("examples/basic runs the README sample", "[examples]") {
  const auto& s = fibredis::test::single_server();
  fibredis::test::ExampleRun r = run_example("basic", "--host 127.0.0.1 --port " + std::to_string(s.port));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("GET basic:greeting -> hello") != std::string::npos);
  CHECK(r.out.find("pipeline -> \"2\"") != std::string::npos);
}

TEST_CASE("examples/blocking_swarm: 500 BRPOPs in one thread, heartbeat keeps ticking", "[examples]") {
  const auto& s = fibredis::test::single_server();
  fibredis::test::ExampleRun r = run_example("blocking_swarm", "--host 127.0.0.1 --port " + std::to_string(s.port) + " --clients 500");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(field(r.out, "clients") == 500);
  CHECK(field(r.out, "returned") == 500);
  CHECK(field(r.out, "threads") == 1);
  CHECK(field(r.out, "wall_ms") < 1500);
  CHECK(field(r.out, "heartbeats") >= 4);
  WARN("blocking_swarm: " << r.out.substr(r.out.rfind("clients=")));
}

TEST_CASE("examples/pubsub: classic, pattern and sharded pub/sub on the cluster, its checks pass", "[examples][pubsub]") {
  const auto& c = fibredis::test::cluster();
  fibredis::test::ExampleRun r = run_example("pubsub", "--cluster 127.0.0.1:" + std::to_string(c.ports.front()));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("classic: 20/20 subscribers exact, on 3 nodes") != std::string::npos);
  CHECK(r.out.find("sharded: 20/20 shard channels") != std::string::npos);
  CHECK(r.out.find("all checks passed") != std::string::npos);
}

TEST_CASE("examples/blocking_swarm --cluster: 200 BRPOPs on lists over every slot", "[examples][cluster]") {
  const auto& c = fibredis::test::cluster();
  fibredis::test::ExampleRun r =
      run_example("blocking_swarm", "--cluster 127.0.0.1:" + std::to_string(c.ports.front()) + " --clients 200");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(field(r.out, "returned") == 200);
  CHECK(field(r.out, "mismatches") == 0);
  CHECK(field(r.out, "errors") == 0);
  CHECK(field(r.out, "threads") == 1);
  CHECK(field(r.out, "wall_ms") >= 1000);  // every BRPOP really waited out its 1 s timeout
  CHECK(field(r.out, "connections") >= 1);
  CHECK(r.out.find("heartbeat 1: ") != std::string::npos);
  WARN("blocking_swarm --cluster: " << r.out.substr(r.out.rfind("clients=")));
}

TEST_CASE("examples/blocking_swarm --cluster --wake: 200 blocked clients each get their own element", "[examples][cluster]") {
  const auto& c = fibredis::test::cluster();
  fibredis::test::ExampleRun r = run_example(
      "blocking_swarm", "--cluster 127.0.0.1:" + std::to_string(c.ports.front()) + " --clients 200 --wake");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(field(r.out, "returned") == 200);  // in a wake run: calls that got their own list's element
  CHECK(field(r.out, "mismatches") == 0);
  CHECK(field(r.out, "errors") == 0);
  CHECK(field(r.out, "threads") == 1);
  const long wake_ms = field(r.out, "wake_ms");
  CHECK(wake_ms >= 0);
  CHECK(wake_ms < 10000);  // woken by the pushes, not by the 10 s timeout
  CHECK(field(r.out, "wall_ms") < 10000);
  WARN("blocking_swarm --wake: " << r.out.substr(r.out.rfind("clients=")));
}
