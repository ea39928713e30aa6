// NodeWatch (detail/cluster/node_watch.hpp): silence and faults make a node suspect; an answer, forget()
// or time clear it. The clock is passed in, so every case is exact.
#include <fibredis/detail/cluster/node_watch.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace fibredis;
using namespace std::chrono_literals;

namespace {
const NodeAddress a{"127.0.0.1", 7000};
const NodeAddress b{"127.0.0.1", 7001};
}  // namespace

TEST_CASE("a node with calls outstanding and no answer for `silence` becomes suspect", "[node_watch]") {
  NodeWatch w(1000ms, 4000ms);
  const Clock::time_point t0{};
  CHECK_FALSE(w.busy());
  w.started(a, t0 + 10s);
  CHECK(w.busy());
  CHECK_FALSE(w.tick(t0 + 10s + 999ms));
  CHECK(w.tick(t0 + 11s));
  CHECK(w.is_suspect(a));
  CHECK_FALSE(w.is_suspect(b));
  CHECK(w.suspects() == std::vector<NodeAddress>{a});
  // Still silent: the suspicion does not expire however long the call hangs.
  CHECK(w.tick(t0 + 30s));
  // It answers at last: no longer suspect.
  w.finished(a, t0 + 31s, true);
  CHECK_FALSE(w.is_suspect(a));
  CHECK_FALSE(w.any_suspect());
}

TEST_CASE("answers to other calls keep a busy node unsuspected", "[node_watch]") {
  NodeWatch w(1000ms, 4000ms);
  const Clock::time_point t0{};
  w.started(a, t0);  // a long call (stays outstanding)
  for (int i = 1; i <= 50; ++i) {
    w.started(a, t0 + i * 100ms);
    w.finished(a, t0 + i * 100ms + 1ms, true);
    CHECK_FALSE(w.tick(t0 + i * 100ms + 2ms));
  }
  // The answers stop: silence counts from the last one.
  CHECK_FALSE(w.tick(t0 + 5s + 900ms));
  CHECK(w.tick(t0 + 6s + 1ms));
}

TEST_CASE("a failed call makes the node suspect at once; the suspicion ages out", "[node_watch]") {
  NodeWatch w(1000ms, 4000ms);
  const Clock::time_point t0{};
  w.started(b, t0);
  w.finished(b, t0 + 5ms, false);
  CHECK(w.is_suspect(b));
  CHECK(w.tick(t0 + 3s));
  CHECK_FALSE(w.busy());          // nothing outstanding, nothing started since the last tick
  CHECK_FALSE(w.tick(t0 + 4s + 5ms));  // 4 s after its last fault, with nothing outstanding
  w.suspect(b, t0 + 5s);
  CHECK(w.any_suspect());
}

TEST_CASE("forget() clears a suspect and times its silence afresh", "[node_watch]") {
  NodeWatch w(1000ms, 4000ms);
  const Clock::time_point t0{};
  w.started(a, t0);
  CHECK(w.tick(t0 + 2s));
  w.forget(a, t0 + 2s);
  CHECK_FALSE(w.is_suspect(a));
  CHECK_FALSE(w.tick(t0 + 2s + 500ms));
  CHECK(w.tick(t0 + 3s + 1ms));  // the old call still hangs
  w.finished(a, t0 + 4s, false);
  CHECK(w.is_suspect(a));
  w.forget(b, t0 + 4s);  // unknown node: nothing happens
  CHECK(w.suspects() == std::vector<NodeAddress>{a});
}
