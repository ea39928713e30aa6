#include <catch2/catch.hpp>

#include <string>

#include "fibredis/detail/resp/error_reply.hpp"

using fibredis::ErrorKind;
using fibredis::classify_error;
using fibredis::parse_redirect;

TEST_CASE("classify_error recognises every kind", "[error_reply]") {
  CHECK(classify_error("MOVED 3999 127.0.0.1:6381") == ErrorKind::Moved);
  CHECK(classify_error("ASK 3999 127.0.0.1:6381") == ErrorKind::Ask);
  CHECK(classify_error("TRYAGAIN Multiple keys request during rehashing of slot") ==
        ErrorKind::TryAgain);
  CHECK(classify_error("CLUSTERDOWN The cluster is down") == ErrorKind::ClusterDown);
  CHECK(classify_error("CLUSTERDOWN Hash slot not served") == ErrorKind::ClusterDown);
  CHECK(classify_error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                       "to 'no'.") == ErrorKind::MasterDown);
  CHECK(classify_error("LOADING Redis is loading the dataset in memory") == ErrorKind::Loading);
  CHECK(classify_error("READONLY You can't write against a read only replica.") ==
        ErrorKind::ReadOnly);
  CHECK(classify_error("CROSSSLOT Keys in request don't hash to the same slot") ==
        ErrorKind::CrossSlot);
  CHECK(classify_error("WRONGPASS invalid username-password pair or user is disabled.") ==
        ErrorKind::Auth);
  CHECK(classify_error("NOAUTH Authentication required.") == ErrorKind::Auth);
  CHECK(classify_error("ERR invalid password") == ErrorKind::Auth);
  CHECK(classify_error("ERR invalid username-password pair") == ErrorKind::Auth);
  CHECK(classify_error("ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?") ==
        ErrorKind::Auth);
  CHECK(classify_error("ERR Client sent AUTH, but no password is set") == ErrorKind::Auth);
  CHECK(classify_error("NOSCRIPT No matching script. Please use EVAL.") == ErrorKind::NoScript);
  CHECK(classify_error("EXECABORT Transaction discarded because of previous errors.") ==
        ErrorKind::ExecAbort);
  CHECK(classify_error("BUSY Redis is busy running a script.") == ErrorKind::Busy);
  CHECK(classify_error("BUSY") == ErrorKind::Busy);
}

TEST_CASE("classify_error leaves everything else as Other", "[error_reply]") {
  CHECK(classify_error("") == ErrorKind::Other);
  CHECK(classify_error("ERR unknown command 'FOO'") == ErrorKind::Other);
  CHECK(classify_error("ERR") == ErrorKind::Other);
  CHECK(classify_error("WRONGTYPE Operation against a key holding the wrong kind of value") ==
        ErrorKind::Other);
  CHECK(classify_error("BUSYKEY Target key name already exists.") == ErrorKind::Other);
  CHECK(classify_error("BUSYGROUP Consumer Group name already exists") == ErrorKind::Other);
  CHECK(classify_error("NOPERM this user has no permissions") == ErrorKind::Other);
  CHECK(classify_error("MOVEDX 1 a:1") == ErrorKind::Other);
  CHECK(classify_error("moved 1 a:1") == ErrorKind::Other);
  CHECK(classify_error(" MOVED 1 a:1") == ErrorKind::Other);
}

TEST_CASE("parse_redirect parses MOVED and ASK", "[error_reply]") {
  auto m = parse_redirect("MOVED 3999 127.0.0.1:6381");
  REQUIRE(m.has_value());
  CHECK_FALSE(m->ask);
  CHECK(m->slot == 3999);
  CHECK(m->host == "127.0.0.1");
  CHECK(m->port == 6381);

  auto a = parse_redirect("ASK 16383 redis-7.example.com:7000");
  REQUIRE(a.has_value());
  CHECK(a->ask);
  CHECK(a->slot == 16383);
  CHECK(a->host == "redis-7.example.com");
  CHECK(a->port == 7000);

  auto zero = parse_redirect("MOVED 0 10.0.0.1:65535");
  REQUIRE(zero.has_value());
  CHECK(zero->slot == 0);
  CHECK(zero->port == 65535);
}

TEST_CASE("parse_redirect handles IPv6 and empty hosts", "[error_reply]") {
  auto v6 = parse_redirect("MOVED 1 ::1:6381");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 6381);

  auto full = parse_redirect("ASK 12 2001:db8::ff00:42:8329:7001");
  REQUIRE(full.has_value());
  CHECK(full->host == "2001:db8::ff00:42:8329");
  CHECK(full->port == 7001);

  auto bracketed = parse_redirect("MOVED 1 [::1]:6381");
  REQUIRE(bracketed.has_value());
  CHECK(bracketed->host == "::1");
  // Found by tests/fuzz/fuzz_error_reply.cpp: a host left with brackets after the outer pair came
  // off printed back as a different redirect.
  CHECK_FALSE(parse_redirect("MOVED 1 [[11]]:70").has_value());
  CHECK_FALSE(parse_redirect("MOVED 1 a]b:70").has_value());

  auto empty = parse_redirect("MOVED 1 :6381");
  REQUIRE(empty.has_value());
  CHECK(empty->host.empty());
  CHECK(empty->port == 6381);
}

TEST_CASE("parse_redirect rejects malformed redirects", "[error_reply]") {
  for (const char* bad : {
           "",
           "MOVED",
           "MOVED ",
           "MOVED 3999",
           "MOVED 3999 ",
           "MOVED 3999 127.0.0.1",
           "MOVED 3999 127.0.0.1:",
           "MOVED 3999 127.0.0.1:0",
           "MOVED 3999 127.0.0.1:65536",
           "MOVED 3999 127.0.0.1:63x",
           "MOVED 3999 127.0.0.1:-1",
           "MOVED 3999 127.0.0.1:+1",
           "MOVED 16384 127.0.0.1:6381",
           "MOVED -1 127.0.0.1:6381",
           "MOVED +1 127.0.0.1:6381",
           "MOVED x 127.0.0.1:6381",
           "MOVED 99999999999999999999 127.0.0.1:6381",
           "MOVED  3999 127.0.0.1:6381",
           "MOVED 3999  127.0.0.1:6381",
           "MOVED 3999 127.0.0.1:6381 extra",
           "MOVED 3999 127.0.0.1:6381\r\n",
           "ASKING 3999 127.0.0.1:6381",
           "TRYAGAIN 3999 127.0.0.1:6381",
           "ERR MOVED 3999 127.0.0.1:6381",
           "moved 3999 127.0.0.1:6381",
       }) {
    INFO("text: \"" << bad << "\"");
    CHECK_FALSE(parse_redirect(bad).has_value());
  }
}

// ---- the exception mapping at the client surface (errors.hpp), built on classify_error ----

#include <cerrno>
#include <system_error>

#include "fibredis/errors.hpp"

namespace {

template <class E>
void expect_thrown(std::error_code ec, const std::string& what) {
  INFO(ec.category().name() << ":" << ec.value());
  try {
    fibredis::throw_error(ec, "connect 127.0.0.1:6379");
  } catch (const E& e) {
    CHECK(std::string(e.what()) == what);
    CHECK(e.code() == ec);
    return;
  } catch (...) {
  }
  FAIL("wrong exception type");
}

}  // namespace

TEST_CASE("fibredis error category", "[errors]") {
  std::error_code ec = fibredis::errc::timeout;
  CHECK(std::string(ec.category().name()) == "fibredis");
  CHECK(ec.message() == "operation timed out");
  for (int v = 1; v <= 8; ++v)
    CHECK_FALSE(fibredis::fibredis_category().message(v).empty());
  CHECK(ec != std::error_code(ETIMEDOUT, std::system_category()));
}

TEST_CASE("throw_error maps codes to the exception hierarchy", "[errors]") {
  using fibredis::errc;
  const std::string ctx = "connect 127.0.0.1:6379: ";
  expect_thrown<fibredis::TimeoutError>(errc::timeout, ctx + "operation timed out");
  expect_thrown<fibredis::ConnectionError>(errc::connection_closed, ctx + "connection closed");
  expect_thrown<fibredis::ConnectionError>(errc::not_connected, ctx + "not connected");
  expect_thrown<fibredis::ConnectionError>(errc::resolve_failed,
                                           ctx + "host name could not be resolved");
  expect_thrown<fibredis::ConnectionError>(errc::cancelled, ctx + "operation cancelled");
  expect_thrown<fibredis::ProtocolError>(errc::protocol_error, ctx + "protocol error");
  expect_thrown<fibredis::AuthenticationError>(errc::auth_failed, ctx + "authentication failed");
  expect_thrown<fibredis::UsageError>(errc::usage, ctx + "invalid usage");

  const auto sys = [](int e) { return std::error_code(e, std::system_category()); };
  for (int e : {ECONNREFUSED, ECONNRESET, EPIPE, ENETUNREACH, EHOSTUNREACH, ECONNABORTED})
    expect_thrown<fibredis::ConnectionError>(sys(e), ctx + sys(e).message());
  for (int e : {ETIMEDOUT, ETIME, ECANCELED})
    expect_thrown<fibredis::TimeoutError>(sys(e), ctx + sys(e).message());
  const auto gen = std::make_error_code(std::errc::connection_refused);
  expect_thrown<fibredis::ConnectionError>(gen, ctx + gen.message());
  const auto gen_timeout = std::make_error_code(std::errc::timed_out);
  expect_thrown<fibredis::TimeoutError>(gen_timeout, ctx + gen_timeout.message());

  // Every fibredis exception derives from Error; the empty context drops the prefix.
  CHECK_THROWS_WITH(fibredis::throw_error(errc::protocol_error, ""), "protocol error");
  CHECK_THROWS_AS(fibredis::throw_error(errc::timeout, "x"), fibredis::Error);
}

TEST_CASE("throw_reply_error keeps the server text and picks the type", "[errors]") {
  CHECK_THROWS_WITH(fibredis::throw_reply_error("ERR syntax error"), "ERR syntax error");
  CHECK_THROWS_AS(fibredis::throw_reply_error("ERR syntax error"), fibredis::ResponseError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("WRONGPASS x"), fibredis::AuthenticationError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("ERR invalid password"),
                  fibredis::AuthenticationError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("CLUSTERDOWN x"), fibredis::ClusterDownError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("TRYAGAIN x"), fibredis::TryAgainError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("CROSSSLOT x"), fibredis::CrossSlotError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("MOVED 1 a:1"), fibredis::ResponseError);
  CHECK_THROWS_AS(fibredis::throw_reply_error("LOADING x"), fibredis::ResponseError);
  try {
    fibredis::throw_reply_error("NOAUTH Authentication required.");
  } catch (const fibredis::AuthenticationError& e) {
    CHECK(e.code() == fibredis::errc::auth_failed);
    CHECK(std::string(e.what()) == "NOAUTH Authentication required.");
  }
}
