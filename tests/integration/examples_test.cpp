// The example programs, built by meson, run against the test servers: each must do what its usage
// block promises. (Their paths come from FIBREDIS_EXAMPLES_DIR, set by tests/meson.build.)
#include <catch2/catch.hpp>

#include "support/servers.hpp"

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace {
struct Run {
  int status = -1;
  std::string out;
};

Run run_example(const std::string& name, const std::string& args) {
  const char* dir = std::getenv("FIBREDIS_EXAMPLES_DIR");
  const std::string path = std::string(dir ? dir : "examples") + "/" + name;
  Run r;
  FILE* f = ::popen(("timeout 60 " + path + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  r.status = ::pclose(f);
  return r;
}

long field(const std::string& out, const std::string& name) {
  std::smatch m;
  const std::regex re(name + "=(-?[0-9]+)");
  REQUIRE(std::regex_search(out, m, re));
  return std::stol(m[1]);
}
}  // namespace

TEST_CASE("examples/basic runs the README sample", "[examples]") {
  const auto& s = fibredis::test::single_server();
  Run r = run_example("basic", "--host 127.0.0.1 --port " + std::to_string(s.port));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("GET basic:greeting -> hello") != std::string::npos);
  CHECK(r.out.find("pipeline -> \"2\"") != std::string::npos);
}

TEST_CASE("examples/blocking_swarm: 500 BRPOPs in one thread, heartbeat keeps ticking", "[examples]") {
  const auto& s = fibredis::test::single_server();
  Run r = run_example("blocking_swarm", "--host 127.0.0.1 --port " + std::to_string(s.port) + " --clients 500");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(field(r.out, "clients") == 500);
  CHECK(field(r.out, "returned") == 500);
  CHECK(field(r.out, "threads") == 1);
  CHECK(field(r.out, "wall_ms") < 1500);
  CHECK(field(r.out, "heartbeats") >= 4);
  WARN("blocking_swarm: " << r.out.substr(r.out.rfind("clients=")));
}
