// The one retry rule (detail/cluster/retry_policy.hpp), case by case, and the newest-view choice a
// refresh makes among several nodes' answers.
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <system_error>
#include <vector>

using namespace fibredis;

namespace {

Decision decide_for(Outcome o, Attempt a = {}, RetryPolicy p = {}) {
  a.outcome = o;
  return decide(p, a);
}

Reply node(std::uint16_t port) {
  return Reply::array({Reply::string("127.0.0.1"), Reply::integer(port), Reply::string("id")});
}

// Slots 0-8191 on `first`, 8192-16383 on `second`.
Topology two_shards(std::uint16_t first, std::uint16_t second) {
  return Topology::from_cluster_slots(
      Reply::array({
          Reply::array({Reply::integer(0), Reply::integer(8191), node(first)}),
          Reply::array({Reply::integer(8192), Reply::integer(16383), node(second)}),
      }),
      NodeAddress{"127.0.0.1", first}, {});
}

}  // namespace

TEST_CASE("classify_failure: timeouts, fatal errors, connection errors", "[retry_policy]") {
  CHECK(classify_failure({}) == Outcome::None);
  // Local conditions are never a node's fault: given up at once, no suspect node.
  CHECK(classify_failure(make_error_code(errc::too_many_open_files)) == Outcome::Fatal);
  CHECK(classify_failure(std::error_code(EMFILE, std::system_category())) == Outcome::Fatal);
  CHECK(classify_failure(std::error_code(ENFILE, std::system_category())) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::pool_timeout)) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::call_cancelled)) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::call_timeout)) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::timeout)) == Outcome::Timeout);
  CHECK(classify_failure(std::error_code(ETIME, std::system_category())) == Outcome::Timeout);
  CHECK(classify_failure(std::error_code(ECANCELED, std::system_category())) == Outcome::Timeout);
  CHECK(classify_failure(make_error_code(errc::auth_failed)) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::usage)) == Outcome::Fatal);
  CHECK(classify_failure(make_error_code(errc::connection_closed)) == Outcome::ConnectionError);
  CHECK(classify_failure(make_error_code(errc::protocol_error)) == Outcome::ConnectionError);
  CHECK(classify_failure(std::make_error_code(std::errc::connection_refused)) == Outcome::ConnectionError);
  CHECK(classify_failure(std::error_code(ECONNRESET, std::system_category())) == Outcome::ConnectionError);
}

TEST_CASE("classify_outcome: replies", "[retry_policy]") {
  CHECK(classify_outcome(Reply::status("OK")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("ERR wrong number of arguments")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("MOVED 1 127.0.0.1:7001")) == Outcome::Moved);
  CHECK(classify_outcome(Reply::error("ASK 1 127.0.0.1:7001")) == Outcome::Ask);
  CHECK(classify_outcome(Reply::error("MOVED garbage")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("CLUSTERDOWN The cluster is down")) == Outcome::ClusterDown);
  CHECK(classify_outcome(Reply::error("READONLY You can't write against a read only replica.")) == Outcome::ReadOnly);
}

TEST_CASE("decide: answers and fatal errors end the call", "[retry_policy]") {
  CHECK(decide_for(Outcome::Final).action == Action::Done);
  const Decision fatal = decide_for(Outcome::Fatal);
  CHECK(fatal.action == Action::GiveUp);
  CHECK_FALSE(fatal.suspect_node);
}

TEST_CASE("decide: only MOVED/ASK count toward max_redirects", "[retry_policy]") {
  const RetryPolicy p{.max_redirects = 3};  // three sends: two redirects followed
  for (Outcome o : {Outcome::Moved, Outcome::Ask}) {
    const Decision d = decide_for(o, {.redirects = 1}, p);
    CHECK(d.action == Action::Retry);
    CHECK(d.redirect);
    CHECK_FALSE(d.back_off);
    CHECK(d.refresh == Refresh::None);
    CHECK(decide_for(o, {.redirects = 2}, p).action == Action::GiveUp);
    CHECK(decide_for(o, {}, RetryPolicy{.max_redirects = 1}).action == Action::GiveUp);
  }
  // However many redirects came before, a transient fault is still retried (the deadline bounds it).
  for (Outcome o : {Outcome::TryAgain, Outcome::Loading, Outcome::ClusterDown, Outcome::SlotNotCovered,
                    Outcome::ConnectionError, Outcome::Timeout, Outcome::ReadOnly, Outcome::MasterDown}) {
    INFO(static_cast<int>(o));
    const Decision d = decide_for(o, {.redirects = 100}, p);
    CHECK(d.action == Action::Retry);
    CHECK_FALSE(d.redirect);
  }
}

TEST_CASE("decide: transient faults back off; CLUSTERDOWN refreshes in the background", "[retry_policy]") {
  const Decision tryagain = decide_for(Outcome::TryAgain);
  CHECK(tryagain.back_off);
  CHECK(tryagain.refresh == Refresh::None);
  const Decision down = decide_for(Outcome::ClusterDown);
  CHECK(down.back_off);
  CHECK(down.refresh == Refresh::Background);
  CHECK(decide_for(Outcome::SlotNotCovered).refresh == Refresh::Background);
  const Decision loading = decide_for(Outcome::Loading, {.via_replica = true});
  CHECK(loading.back_off);
  CHECK(loading.primary_only);
  CHECK_FALSE(decide_for(Outcome::Loading).primary_only);
}

TEST_CASE("decide: READONLY / MASTERDOWN refresh, unless the node was chosen", "[retry_policy]") {
  for (Outcome o : {Outcome::ReadOnly, Outcome::MasterDown}) {
    const Decision d = decide_for(o);
    CHECK(d.action == Action::Retry);
    CHECK(d.refresh == Refresh::Wait);
    CHECK(decide_for(o, {.fixed_node = true}).action == Action::Done);
  }
  CHECK(decide_for(Outcome::MasterDown, {.via_replica = true}).primary_only);
}

TEST_CASE("decide: a lost answer is resent only when that is safe", "[retry_policy]") {
  const RetryPolicy at_least_once{.retry_unknown_writes = true};
  const RetryPolicy at_most_once{.retry_unknown_writes = false};
  for (Outcome o : {Outcome::ConnectionError, Outcome::Timeout}) {
    INFO(static_cast<int>(o));
    // Never written: always safe, whatever the command.
    for (const RetryPolicy& p : {at_least_once, at_most_once}) {
      const Decision d = decide_for(o, {.written = false}, p);
      CHECK(d.action == Action::Retry);
      CHECK(d.suspect_node);
      CHECK(d.refresh == Refresh::Wait);
      CHECK(d.back_off);
      CHECK(decide_for(o, {.written = true, .read_only = true}, p).action == Action::Retry);
    }
    // A written write: the documented default resends it; the other choice gives up.
    CHECK(decide_for(o, {.written = true}, at_least_once).action == Action::Retry);
    const Decision no = decide_for(o, {.written = true}, at_most_once);
    CHECK(no.action == Action::GiveUp);
    CHECK(no.suspect_node);  // the node is still suspect for everyone else
    CHECK(decide_for(o, {.written = true, .read_only = true, .via_replica = true}).primary_only);
  }
  CHECK(RetryPolicy{}.retry_unknown_writes);  // the default is at-least-once
}

TEST_CASE("backoff_delay doubles from 5 ms to 320 ms", "[retry_policy]") {
  using std::chrono::milliseconds;
  CHECK(backoff_delay(0) == milliseconds(5));
  CHECK(backoff_delay(1) == milliseconds(10));
  CHECK(backoff_delay(6) == milliseconds(320));
  CHECK(backoff_delay(60) == milliseconds(320));
  CHECK(backoff_delay(-1) == milliseconds(5));
}

TEST_CASE("newest_view: highest epoch, then the majority, then the first", "[topology]") {
  const Topology old_map = two_shards(7000, 7001);
  const Topology new_map = two_shards(7003, 7001);  // 7003 took over from 7000
  SECTION("the highest epoch wins even alone") {
    CHECK(newest_view({{5, &old_map}, {6, &new_map}, {5, &old_map}}) == 1);
  }
  SECTION("equal epochs: the layout most views share") {
    CHECK(newest_view({{6, &old_map}, {6, &new_map}, {6, &new_map}}) == 1);
    CHECK(newest_view({{6, &new_map}, {6, &old_map}, {6, &old_map}}) == 1);
  }
  SECTION("a tie: the first") {
    CHECK(newest_view({{6, &new_map}, {6, &old_map}}) == 0);
    CHECK(newest_view({{0, &old_map}}) == 0);
  }
}
