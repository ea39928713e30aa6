// WAIT/WAITAOF rules without a server (client/wait_batch.hpp): which batches are refused before
// anything is sent, and how the typed wait()/waitaof() encode.
#include <catch2/catch.hpp>

#include <fibredis/client/commands.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/errors.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Command;
using fibredis::UsageError;
using fibredis::WaitBatch;

namespace {

struct Queue : fibredis::Commands<Queue> {
  std::vector<Command> cmds;
  template <class Parser>
  Queue& dispatch(Command&& cmd) {
    cmds.push_back(std::move(cmd));
    return *this;
  }
};

WaitBatch check(const std::vector<Command>& cmds, bool transaction = false) {
  return fibredis::check_wait_batch(cmds.data(), cmds.size(), transaction);
}

}  // namespace

TEST_CASE("counts_own_writes recognises WAIT and WAITAOF in any case, nothing else", "[wait_batch]") {
  CHECK(fibredis::counts_own_writes(Command{"WAIT", "1", "100"}));
  CHECK(fibredis::counts_own_writes(Command{"wait", "1", "100"}));
  CHECK(fibredis::counts_own_writes(Command{"WaitAof", "0", "1", "100"}));
  CHECK_FALSE(fibredis::counts_own_writes(Command{"WATCH", "k"}));
  CHECK_FALSE(fibredis::counts_own_writes(Command{"WAITX", "1"}));
  CHECK_FALSE(fibredis::counts_own_writes(Command{"GET", "k"}));
  CHECK_FALSE(fibredis::counts_own_writes(Command{}));
  CHECK_THROWS_WITH(fibredis::refuse_lone_wait(Command{"wait", "1", "100"}),
                    Catch::Contains("WAIT cannot be sent on its own") && Catch::Contains("pipeline"));
}

TEST_CASE("typed wait() and waitaof() put integer milliseconds last and mark the block time", "[wait_batch]") {
  Queue q;
  q.set("k", "v").wait(2, 1500ms).waitaof(1, 0, 250ms);
  REQUIRE(q.cmds.size() == 3);
  const Command& w = q.cmds[1];
  REQUIRE(w.size() == 3);
  CHECK(w[0] == "WAIT");
  CHECK(w[1] == "2");
  CHECK(w[2] == "1500");
  CHECK(w.blocking == 1500ms);
  const Command& a = q.cmds[2];
  REQUIRE(a.size() == 4);
  CHECK(a[0] == "WAITAOF");
  CHECK(a[1] == "1");
  CHECK(a[2] == "0");
  CHECK(a[3] == "250");
  CHECK(a.blocking == 250ms);
  CHECK_THROWS_AS(q.wait(1, -1ms), UsageError);
}

TEST_CASE("batches with WAIT: what is accepted and what is refused before sending", "[wait_batch]") {
  SECTION("no WAIT: nothing to do") {
    const WaitBatch b = check({Command{"SET", "k", "v"}, Command{"GET", "k"}});
    CHECK_FALSE(b.any);
    CHECK(b.trailing == 0);
  }
  SECTION("writes then WAIT: exclusive, one trailing") {
    const WaitBatch b = check({Command{"SET", "k", "v"}, Command{"INCR", "n"}, Command{"WAIT", "1", "100"}});
    CHECK(b.any);
    CHECK(b.trailing == 1);
  }
  SECTION("WAIT in the middle of a pipeline counts the writes before it") {
    const WaitBatch b = check({Command{"SET", "k", "v"}, Command{"WAIT", "1", "100"}, Command{"GET", "k"}});
    CHECK(b.any);
    CHECK(b.trailing == 0);
  }
  SECTION("scripts and unknown (module) commands may write") {
    CHECK(check({Command{"EVAL", "return 1", "0"}, Command{"WAIT", "1", "100"}}).any);
    CHECK(check({Command{"FCALL", "f", "1", "k"}, Command{"WAIT", "1", "100"}}).any);
    CHECK(check({Command{"JSON.SET", "k", "$", "1"}, Command{"WAIT", "1", "100"}}).any);
  }
  SECTION("nothing that writes before WAIT: its count would cover no write of ours") {
    CHECK_THROWS_WITH(check({Command{"WAIT", "1", "100"}}), Catch::Contains("must follow the writes"));
    CHECK_THROWS_AS(check({Command{"GET", "k"}, Command{"PING"}, Command{"WAIT", "1", "100"}}), UsageError);
    CHECK_THROWS_AS(check({Command{"WAIT", "1", "100"}, Command{"SET", "k", "v"}}), UsageError);
  }
  SECTION("timeout 0 (forever) is refused") {
    CHECK_THROWS_WITH(check({Command{"SET", "k", "v"}, Command{"WAIT", "1", "0"}}),
                      Catch::Contains("timeout 0"));
    CHECK_THROWS_AS(check({Command{"SET", "k", "v"}, Command{"WAITAOF", "1", "1", "0"}}), UsageError);
  }
  SECTION("a transaction takes WAITs only at its end (sent after EXEC)") {
    const WaitBatch b =
        check({Command{"SET", "k", "v"}, Command{"WAIT", "1", "100"}, Command{"WAITAOF", "0", "1", "100"}}, true);
    CHECK(b.any);
    CHECK(b.trailing == 2);
    CHECK_THROWS_WITH(check({Command{"SET", "k", "v"}, Command{"WAIT", "1", "100"}, Command{"SET", "j", "v"}}, true),
                      Catch::Contains("after EXEC"));
  }
}
