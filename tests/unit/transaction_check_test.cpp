// cluster/transaction_check.hpp: what a cluster transaction is before it is sent, its batch, and
// where in its replies the cluster refused it.
#include <catch2/catch.hpp>

#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/transaction_check.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/errors.hpp>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

using fibredis::Command;
using fibredis::Outcome;
using fibredis::Reply;

namespace {
constexpr std::string_view kWhere = "a cluster transaction";
}

TEST_CASE("check_transaction: one slot, keyless commands with it, read-only flag", "[transaction-check]") {
  auto t = fibredis::check_transaction({Command{"SET", "{u}:a", "1"}, Command{"PING"}, Command{"INCR", "{u}:b"}}, kWhere);
  REQUIRE(t.slot.has_value());
  CHECK(*t.slot == fibredis::key_slot("u"));
  CHECK_FALSE(t.read_only);
  CHECK_FALSE(t.waits.any);

  t = fibredis::check_transaction({Command{"GET", "{u}:a"}, Command{"MGET", "{u}:a", "{u}:b"}}, kWhere);
  CHECK(t.read_only);

  // No key at all: no slot (the caller picks the default node).
  t = fibredis::check_transaction({Command{"PING"}, Command{"TIME"}}, kWhere);
  CHECK_FALSE(t.slot.has_value());

}

TEST_CASE("call_deadline: command_timeout plus every block time, none for a block forever", "[transaction-check]") {
  // A transaction's deadline covers its block times (inside MULTI the server does not block, but
  // the connection is held as long), the same rule as any call (detail/conn/call_deadline.hpp).
  using namespace std::chrono_literals;
  Command blpop{"BLPOP", "{q}:a", "2"};
  blpop.blocking = fibredis::blocking_timeout(blpop);  // as Commands<> sets it
  const std::vector<Command> batch = {Command{"MULTI"}, blpop, blpop, Command{"EXEC"}};
  const auto before = fibredis::Clock::now();
  const fibredis::Deadline d = fibredis::call_deadline(1000ms, batch.data(), batch.size());
  CHECK(d - before >= 5000ms);
  CHECK(d - fibredis::Clock::now() <= 5000ms);
  Command forever{"BLPOP", "{q}:a", "0"};
  forever.blocking = fibredis::blocking_timeout(forever);
  CHECK(fibredis::call_deadline(1000ms, &forever, 1) == fibredis::kNoDeadline);
  CHECK(fibredis::call_deadline(1000ms, nullptr, 0) - before >= 1000ms);
}

TEST_CASE("check_transaction: refusals before anything is sent", "[transaction-check]") {
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"SET", "a", "1"}, Command{"SET", "b", "2"}}, kWhere),
                  fibredis::CrossSlotError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"MSET", "a", "1", "b", "2"}}, kWhere), fibredis::CrossSlotError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"SET", "a", "1"}, Command{"DBSIZE"}}, kWhere),
                  fibredis::UsageError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"KEYS", "*"}}, kWhere), fibredis::UsageError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"CLUSTER", "COUNTKEYSINSLOT", "7"}}, kWhere),
                  fibredis::UsageError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"MULTI"}, Command{"SET", "a", "1"}}, kWhere),
                  fibredis::UsageError);
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"SET", "a", "1"}, Command{"SELECT", "1"}}, kWhere),
                  fibredis::UsageError);
  // WAIT only at the end.
  CHECK_THROWS_AS(fibredis::check_transaction({Command{"SET", "a", "1"}, Command{"WAIT", "1", "100"},
                                               Command{"SET", "a", "2"}},
                                              kWhere),
                  fibredis::UsageError);
  try {
    fibredis::check_transaction({Command{"SET", "a", "1"}, Command{"DBSIZE"}}, kWhere);
    FAIL("not refused");
  } catch (const fibredis::UsageError& e) {
    CHECK(std::string(e.what()).find("DBSIZE") != std::string::npos);
  }
}

TEST_CASE("wrap_transaction: MULTI, the commands, EXEC, then trailing WAITs", "[transaction-check]") {
  std::vector<Command> cmds{Command{"SET", "a", "1"}, Command{"INCR", "a"}, Command{"WAIT", "1", "100"}};
  const auto t = fibredis::check_transaction(cmds, kWhere);
  CHECK(t.waits.trailing == 1);
  std::vector<Command> batch = fibredis::wrap_transaction(std::move(cmds), t.waits.trailing);
  REQUIRE(batch.size() == 5);
  CHECK(batch[0].name() == "MULTI");
  CHECK(batch[1].name() == "SET");
  CHECK(batch[2].name() == "INCR");
  CHECK(batch[3].name() == "EXEC");
  CHECK(batch[4].name() == "WAIT");
}

TEST_CASE("cluster_refusal: the first cluster fault, unless EXEC ran", "[transaction-check]") {
  const Reply ok = Reply::status("OK");
  const Reply queued = Reply::status("QUEUED");
  const Reply moved = Reply::error("MOVED 3999 127.0.0.1:7001");
  const Reply ask = Reply::error("ASK 3999 127.0.0.1:7002");
  const Reply abort = Reply::error("EXECABORT Transaction discarded because of previous errors.");

  auto [o, at] = fibredis::cluster_refusal({ok, queued, moved, moved, abort}, 0, 4);
  CHECK(o == Outcome::Moved);
  CHECK(at == 2);
  std::tie(o, at) = fibredis::cluster_refusal({ok, ok, ask, abort}, 1, 3);  // after ASKING's OK
  CHECK(o == Outcome::Ask);
  CHECK(at == 2);
  std::tie(o, at) = fibredis::cluster_refusal({ok, queued, Reply::error("TRYAGAIN Multiple keys request during rehashing of slot"), abort}, 0, 3);
  CHECK(o == Outcome::TryAgain);
  // EXEC itself redirected (the slot moved after queueing): the transaction was discarded.
  std::tie(o, at) = fibredis::cluster_refusal({ok, queued, moved}, 0, 2);
  CHECK(o == Outcome::Moved);
  CHECK(at == 2);
  // EXEC ran: whatever its elements say is the answer.
  std::tie(o, at) = fibredis::cluster_refusal({ok, queued, Reply::array({Reply::integer(1)})}, 0, 2);
  CHECK(o == Outcome::Final);
  // WATCH aborted it (nil), or a queue-time syntax error: ordinary answers, not cluster faults.
  std::tie(o, at) = fibredis::cluster_refusal({ok, queued, Reply::nil()}, 0, 2);
  CHECK(o == Outcome::Final);
  std::tie(o, at) = fibredis::cluster_refusal({ok, Reply::error("ERR wrong number of arguments for 'get' command"), abort}, 0, 2);
  CHECK(o == Outcome::Final);
  // Trailing WAIT replies after EXEC are not looked at.
  std::tie(o, at) = fibredis::cluster_refusal({ok, queued, Reply::array({Reply::status("OK")}), Reply::integer(1)}, 0, 2);
  CHECK(o == Outcome::Final);
}
