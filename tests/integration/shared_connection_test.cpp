// The shared connection against a real server: what the counters say about writes, what a caller
// that gave up leaves behind (nothing, if it was never written), manual flushing of more commands
// than max_in_flight, a connection that stops answering, and the health-check PING.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/client/client_access.hpp>
#include <fibredis/detail/conn/shared_connection.hpp>
#include <fibredis/detail/net/tcp_socket.hpp>

#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Client;
using fibredis::Options;
using fibredis::Runtime;
using fibredis::test::single_options;

namespace {
// calls=N of one command in INFO commandstats.
long long command_calls(Client& c, const std::string& name) {
  const std::string info = c.command({"INFO", "commandstats"}).as_string();
  const std::string tag = "cmdstat_" + name + ":calls=";
  const auto at = info.find(tag);
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + tag.size()));
}
}  // namespace

TEST_CASE("1,000 fibers' commands leave in few writes (one per scheduler round)", "[shared]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.set("coalesce:k", "v");
    const fibredis::ClientStats before = c.stats();
    int ok = 0;
    {
      std::vector<fibredis::Fiber> fibers;
      for (int f = 0; f < 1000; ++f)
        fibers.emplace_back([&] {
          for (int i = 0; i < 10; ++i)
            if (c.get("coalesce:k") == "v") ++ok;
        });
    }
    const fibredis::ClientStats after = c.stats();
    CHECK(ok == 10000);
    const auto commands = after.commands - before.commands;
    const auto writes = after.writes - before.writes;
    CHECK(commands == 10000);
    CHECK(after.replies - before.replies == 10000);
    INFO("writes " << writes << " for " << commands << " commands");
    CHECK(writes * 20 <= commands);  // at most 0.05 writes per command
  });
}

TEST_CASE("a command whose caller timed out before it was written never reaches the server", "[shared]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options(200ms));
    c.del({"never:k"});
    const long long sets_before = command_calls(c, "set");
    c.set_auto_flush(false);
    CHECK_THROWS_AS(c.set("never:k", "v"), fibredis::TimeoutError);
    CHECK(c.stats().timeouts == 1);
    c.set_auto_flush(true);
    boost::this_fiber::sleep_for(50ms);
    CHECK(c.exists({"never:k"}) == 0);
    CHECK(command_calls(c, "set") == sets_before);
  });
}

TEST_CASE("manual flush: 10,000 queued commands, more than max_in_flight, all complete", "[shared]") {
  Runtime rt;
  rt.run([&] {
    Options o = single_options(10000ms);
    o.max_in_flight = 4096;
    Client c(o);
    c.ping();
    c.set_auto_flush(false);
    int done = 0, failed = 0;
    std::vector<fibredis::Fiber> fibers;
    for (int i = 0; i < 10000; ++i)
      fibers.emplace_back([&, i] {
        try {
          c.set("mflush:" + std::to_string(i), std::to_string(i));
          ++done;
        } catch (const fibredis::Error&) {
          ++failed;
        }
      });
    boost::this_fiber::sleep_for(50ms);
    CHECK(done == 0);  // nothing is sent before flush()
    const auto writes_before = c.stats().writes;
    c.flush();
    for (auto& f : fibers) f.join();
    CHECK(done == 10000);
    CHECK(failed == 0);
    CHECK(c.stats().writes - writes_before <= 10);  // 4096 per write at most, as replies free room
    c.set_auto_flush(true);
    CHECK(c.get("mflush:0") == "0");
    CHECK(c.get("mflush:9999") == "9999");
  });
}

TEST_CASE("a server that stops answering: every waiting caller fails at command_timeout, then reconnects",
          "[shared][faults]") {
  Runtime rt;
  const auto& s = fibredis::test::single_server();
  const pid_t pid = fibredis::test::server_pid(s.port);
  rt.run([&] {
    Options o = single_options(300ms);
    Client c(o);
    c.set("dead:k", "1");
    ::kill(pid, SIGSTOP);
    int timeouts = 0, others = 0;
    const auto t0 = std::chrono::steady_clock::now();
    {
      std::vector<fibredis::Fiber> fibers;
      for (int i = 0; i < 50; ++i)
        fibers.emplace_back([&] {
          try {
            c.get("dead:k");
          } catch (const fibredis::TimeoutError&) {
            ++timeouts;
          } catch (...) {
            ++others;
          }
        });
    }
    const auto waited = std::chrono::steady_clock::now() - t0;
    ::kill(pid, SIGCONT);
    CHECK(timeouts == 50);
    CHECK(others == 0);
    CHECK(waited < 1000ms);
    CHECK(c.get("dead:k") == "1");
    CHECK(c.stats().reconnects == 1);
  });
}

TEST_CASE("health_check_interval PINGs an idle shared connection", "[shared]") {
  Runtime rt;
  rt.run([&] {
    Options o = single_options();
    o.health_check_interval = 50ms;
    Client c(o);
    c.ping();
    const auto before = c.stats();
    boost::this_fiber::sleep_for(400ms);
    const auto after = c.stats();
    CHECK(after.commands - before.commands >= 3);  // PINGs, nobody asked for them
    CHECK(after.replies - before.replies == after.commands - before.commands);
    CHECK(c.ping() == "PONG");
  });
}

TEST_CASE("callers with different deadlines on one connection each time out at their own", "[shared]") {
  Runtime rt;
  rt.run([&] {
    Options o = single_options(2000ms);
    Client c(o);
    c.ping();
    c.set_auto_flush(false);  // nothing is written: every caller waits until its deadline
    auto& shared = fibredis::detail::shared_connection(c);
    std::chrono::milliseconds waited[3]{};
    std::error_code codes[3];
    bool written[3] = {true, true, true};
    const std::chrono::milliseconds budgets[3] = {600ms, 100ms, 300ms};  // 2nd, 3rd earlier than 1st
    {
      std::vector<fibredis::Fiber> fibers;
      for (int i = 0; i < 3; ++i)
        fibers.emplace_back([&, i] {
          fibredis::Command cmd{"SET", "deadlines:" + std::to_string(i), "v"};
          fibredis::Reply r;
          const auto t0 = std::chrono::steady_clock::now();
          codes[i] = shared.execute(&cmd, 1, &r, fibredis::deadline_after(budgets[i]), &written[i]);
          waited[i] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        });
    }
    for (int i = 0; i < 3; ++i) {
      INFO("caller " << i << " waited " << waited[i].count() << " ms");
      CHECK(codes[i] == fibredis::errc::timeout);
      CHECK_FALSE(written[i]);
      CHECK(waited[i] >= budgets[i]);
      CHECK(waited[i] < budgets[i] + 150ms);
    }
    c.set_auto_flush(true);
    CHECK(c.exists({"deadlines:0", "deadlines:1", "deadlines:2"}) == 0);
  });
}

TEST_CASE("a watched deadline earlier than the dead-connection check still ends its call on time",
          "[shared][faults]") {
  Runtime rt;
  const auto& s = fibredis::test::single_server();
  const pid_t pid = fibredis::test::server_pid(s.port);
  rt.run([&] {
    Client c(single_options(2000ms));
    c.ping();
    auto& shared = fibredis::detail::shared_connection(c);
    ::kill(pid, SIGSTOP);
    std::error_code first, second;
    std::chrono::milliseconds second_waited{};
    {
      // The first call has no deadline (only the connection's own check ends it); the second
      // is the only caller whose deadline the writer watches, and it comes before that check.
      fibredis::Fiber a([&] {
        fibredis::Command cmd{"GET", "watch:a"};
        fibredis::Reply r;
        first = shared.execute(&cmd, 1, &r, fibredis::kNoDeadline);
      });
      fibredis::Fiber b([&] {
        boost::this_fiber::sleep_for(20ms);
        fibredis::Command cmd{"GET", "watch:b"};
        fibredis::Reply r;
        const auto t0 = std::chrono::steady_clock::now();
        second = shared.execute(&cmd, 1, &r, fibredis::deadline_after(200ms));
        second_waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      });
    }
    ::kill(pid, SIGCONT);
    CHECK(second == fibredis::errc::timeout);
    CHECK(second_waited < 600ms);
    CHECK(first == fibredis::errc::timeout);  // the connection was taken for dead at 2 s
    CHECK(c.ping() == "PONG");
  });
}

// Keepalive's timing (tcp_socket.hpp): SO_KEEPALIVE at connect, the idle/interval/count only once a
// wait could outlast keepalive_idle (a shorter wait ends at its own deadline first). No Redis
// needed: a plain listening socket on an ephemeral loopback port.
TEST_CASE("TcpSocket sets keepalive's timing only for a wait that could outlast it", "[shared][keepalive]") {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const auto port = ntohs(addr.sin_port);

  const auto opt = [](int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    REQUIRE(::getsockopt(fd, level, name, &v, &l) == 0);
    return v;
  };
  fibredis::SocketOptions o;
  o.keepalive_idle = std::chrono::seconds(1234);  // no system default is this
  o.keepalive_interval = std::chrono::seconds(7);
  o.keepalive_count = 4;

  Runtime rt;
  rt.run([&] {
    fibredis::TcpSocket s;
    REQUIRE_FALSE(s.connect("127.0.0.1", port, fibredis::deadline_after(2s), o));
    const int fd = s.native_handle();
    CHECK(opt(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
    const int system_idle = opt(fd, IPPROTO_TCP, TCP_KEEPIDLE);
    CHECK(system_idle != 1234);

    // A 50 ms wait (nothing comes): its deadline notices a dead peer long before a probe would.
    CHECK(s.wait_readable(fibredis::deadline_after(50ms)) == fibredis::errc::timeout);
    CHECK(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == system_idle);

    // A wait without a deadline could sit idle for ever: the timing is set before it.
    const int peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(peer >= 0);
    REQUIRE(::send(peer, "x", 1, MSG_NOSIGNAL) == 1);
    CHECK_FALSE(s.wait_readable(fibredis::kNoDeadline));
    CHECK(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 1234);
    CHECK(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 7);
    CHECK(opt(fd, IPPROTO_TCP, TCP_KEEPCNT) == 4);
    ::close(peer);

    // A connection a pool keeps idle asks for it directly.
    fibredis::TcpSocket idle;
    REQUIRE_FALSE(idle.connect("127.0.0.1", port, fibredis::deadline_after(2s), o));
    CHECK(opt(idle.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE) == system_idle);
    idle.ensure_keepalive_timing();
    CHECK(opt(idle.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE) == 1234);
    const int peer2 = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (peer2 >= 0) ::close(peer2);
  });
  ::close(listener);
}
