// fibredis-cli against the harness cluster: its replies compared byte for byte with what
// `redis-cli -c` prints for the same commands (both output forms), -v, exit codes, and an
// interactive session driven through a pseudo-terminal with readline history.
// (The binary's path comes from FIBREDIS_CLI, set by tests/meson.build.)
#include <catch2/catch.hpp>

#include "support/servers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout only
};

std::string cli_path() {
  const char* p = std::getenv("FIBREDIS_CLI");
  return p ? p : "tools/fibredis-cli";
}

// Runs a shell command line, bounded to 60 s; stdout and the exit code.
Run run(const std::string& line) {
  Run r;
  FILE* f = ::popen(("timeout 60 " + line).c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int status = ::pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ports_args(std::uint16_t port) { return " -c -h 127.0.0.1 -p " + std::to_string(port) + " "; }

}  // namespace

TEST_CASE("fibredis-cli prints what redis-cli -c prints", "[cli]") {
  const auto& c = fibredis::test::cluster();
  const std::uint16_t port = c.ports[0];
  const std::string key = "cli:{t" + std::to_string(::getpid()) + "}";
  // Fixtures written with redis-cli, so both tools read the same data. The hash has one field so
  // that HGETALL's order cannot differ between the two reads.
  fibredis::test::redis_cli(port, "-c del " + key + ":l " + key + ":h " + key + ":s");
  fibredis::test::redis_cli(port, "-c rpush " + key + ":l a 'b c' '' 'q\"uote'");
  fibredis::test::redis_cli(port, "-c hset " + key + ":h field 'line1\nline2'");
  const std::vector<std::string> commands = {
      "set " + key + ":s bar",
      "get " + key + ":s",
      "get " + key + ":missing",
      "lrange " + key + ":l 0 -1",
      "lrange " + key + ":missing 0 -1",
      "hgetall " + key + ":h",
      "incr " + key + ":s",             // an error reply: not an integer
      "llen " + key + ":l",
      "command count",                  // keyless, routed to one node
  };
  for (const char* form : {"--no-raw", "--raw"}) {
    for (const std::string& cmd : commands) {
      INFO(form << " " << cmd);
      const Run theirs = run("redis-cli" + ports_args(port) + form + " " + cmd);
      const Run ours = run(cli_path() + ports_args(port) + form + " " + cmd + " 2>/dev/null");
      REQUIRE(!theirs.out.empty());
      CHECK(ours.out == theirs.out);
      const bool error_reply = cmd.starts_with("incr");
      CHECK(ours.exit_code == (error_reply ? 3 : 0));  // redis-cli 7.0 exits 0 on an error reply
    }
  }
  // Spot-check the standard form against literal text too, so both tools cannot be wrong alike.
  CHECK(run(cli_path() + ports_args(port) + "--no-raw get " + key + ":s").out == "\"bar\"\n");
  CHECK(run(cli_path() + ports_args(port) + "--no-raw lrange " + key + ":l 0 -1").out ==
        "1) \"a\"\n2) \"b c\"\n3) \"\"\n4) \"q\\\"uote\"\n");
  CHECK(run(cli_path() + ports_args(port) + "--no-raw incr " + key + ":s").out ==
        "(error) ERR value is not an integer or out of range\n");
}

TEST_CASE("fibredis-cli -v names the node that answered; exit codes", "[cli]") {
  const auto& c = fibredis::test::cluster();
  const std::uint16_t port = c.ports[0];
  // "foo" hashes to slot 12182 (CLUSTER KEYSLOT foo).
  const Run r = run(cli_path() + ports_args(port) + "-v get foo 2>&1 >/dev/null");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("-> answered by 127.0.0.1:") != std::string::npos);
  CHECK(r.out.find("(slot 12182)") != std::string::npos);
  // The port it names serves slot 12182: asked directly (no -c), it answers instead of MOVED.
  const std::size_t colon = r.out.find("127.0.0.1:");
  REQUIRE(colon != std::string::npos);
  const std::string named_port = r.out.substr(colon + 10, r.out.find(' ', colon) - colon - 10);
  CHECK(fibredis::test::redis_cli(static_cast<std::uint16_t>(std::stoi(named_port)), "get foo").find("MOVED") ==
        std::string::npos);

  const std::uint16_t dead = fibredis::test::unused_port();
  const Run refused = run(cli_path() + " -c -p " + std::to_string(dead) + " get foo 2>&1");
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("Could not connect to Redis at 127.0.0.1:" + std::to_string(dead)) != std::string::npos);
  CHECK(run(cli_path() + " --bogus 2>/dev/null").exit_code == 2);
  // A cross-slot command is refused by the cluster client before anything is sent.
  const Run cross = run(cli_path() + ports_args(port) + "--no-raw mget a b");
  CHECK(cross.exit_code == 3);
  CHECK(cross.out.starts_with("(error) "));
}

TEST_CASE("fibredis-cli --latency and --stat end after --duration with figures", "[cli]") {
  const auto& c = fibredis::test::cluster();
  const Run lat = run(cli_path() + ports_args(c.ports[0]) + "--latency -i 0.2 --duration 0.6");
  CHECK(lat.exit_code == 0);
  CHECK(lat.out.find("min: ") != std::string::npos);
  CHECK(lat.out.find(" samples)") != std::string::npos);
  const Run st = run(cli_path() + ports_args(c.ports[0]) + "--stat -i 0.2 --duration 0.5");
  CHECK(st.exit_code == 0);
  CHECK(st.out.find("keys       mem      clients") != std::string::npos);
  // Header plus at least two rows of figures, each starting with the key count.
  std::istringstream lines(st.out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') ++rows;
  CHECK(rows >= 2);
}

namespace {

// The interactive session's terminal: reads what the program wrote until `want` appears.
struct Pty {
  int fd = -1;
  pid_t pid = -1;
  std::string seen;

  bool wait_for(const std::string& want, std::size_t from, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (seen.find(want, from) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[1024];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      seen.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  void type(const std::string& s) { REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
};

}  // namespace

TEST_CASE("fibredis-cli interactive session through a pty, with history", "[cli]") {
  const auto& c = fibredis::test::cluster();
  const std::string port = std::to_string(c.ports[0]);
  char hist_template[] = "/tmp/fibredis-cli-hist.XXXXXX";
  const int hist_fd = ::mkstemp(hist_template);
  REQUIRE(hist_fd >= 0);
  ::close(hist_fd);
  const std::string hist = hist_template;
  const std::string key = "cli:pty:" + std::to_string(::getpid());

  Pty t;
  t.pid = ::forkpty(&t.fd, nullptr, nullptr, nullptr);
  REQUIRE(t.pid >= 0);
  if (t.pid == 0) {
    ::setenv("FIBREDIS_CLI_HISTFILE", hist.c_str(), 1);
    ::setenv("TERM", "xterm", 1);
    const std::string path = cli_path();
    ::execl(path.c_str(), path.c_str(), "-c", "-p", port.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string prompt = "127.0.0.1:" + port + "> ";
  REQUIRE(t.wait_for(prompt, 0));
  std::size_t mark = t.seen.size();
  t.type("set " + key + " \"hello world\"\r");
  CHECK(t.wait_for("OK", mark));
  REQUIRE(t.wait_for(prompt, mark));
  mark = t.seen.size();
  t.type("get " + key + "\r");
  CHECK(t.wait_for("\"hello world\"", mark));
  REQUIRE(t.wait_for(prompt, mark));
  mark = t.seen.size();
  t.type("rpush " + key + ":l x y\r");
  CHECK(t.wait_for("(integer) 2", mark));
  REQUIRE(t.wait_for(prompt, mark));
  // Up arrow twice: readline brings back "get KEY" from the history; Enter runs it again.
  mark = t.seen.size();
  t.type("\x1b[A\x1b[A\r");
  CHECK(t.wait_for("\"hello world\"", mark));
  REQUIRE(t.wait_for(prompt, mark));
  mark = t.seen.size();
  t.type("lrange " + key + ":l 0 -1\r");
  CHECK(t.wait_for("1) \"x\"\r\n2) \"y\"", mark));
  REQUIRE(t.wait_for(prompt, mark));
  mark = t.seen.size();
  t.type("incr " + key + "\r");  // an error reply, printed as redis-cli prints it
  CHECK(t.wait_for("(error) ERR value is not an integer or out of range", mark));
  REQUIRE(t.wait_for(prompt, mark));
  t.type("quit\r");
  int status = -1;
  for (int i = 0; i < 200 && ::waitpid(t.pid, &status, WNOHANG) == 0; ++i) ::usleep(50'000);
  if (!WIFEXITED(status)) ::kill(t.pid, SIGKILL);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  ::close(t.fd);

  std::ifstream in(hist);
  std::stringstream saved;
  saved << in.rdbuf();
  ::unlink(hist.c_str());
  CHECK(saved.str().find("set " + key + " \"hello world\"") != std::string::npos);
  CHECK(saved.str().find("lrange " + key + ":l 0 -1") != std::string::npos);
  fibredis::test::redis_cli(c.ports[0], "-c del " + key);
  fibredis::test::redis_cli(c.ports[0], "-c del " + key + ":l");
}
