// ClusterClient, the topology half: reading the slot map, noticing dead nodes, and the watchdog
// fiber. The routing half is cluster_client.cpp.
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/runtime/parker.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>

#include <algorithm>
#include <charconv>

namespace fibredis {

namespace {

// Nodes asked at once for the slot map. Three answers out of six nodes let a refresh during a
// failover see past one stale view, and cost three small round trips.
constexpr std::size_t kParallelQueries = 3;

// cluster_current_epoch from a CLUSTER INFO reply; 0 when absent.
std::uint64_t current_epoch(const Reply& info) {
  if (!info.is_string()) return 0;
  const std::string_view text = info.str();
  constexpr std::string_view field = "cluster_current_epoch:";
  const std::size_t at = text.find(field);
  if (at == std::string_view::npos) return 0;
  std::uint64_t epoch = 0;
  const char* begin = text.data() + at + field.size();
  std::from_chars(begin, text.data() + text.size(), epoch);
  return epoch;
}

}  // namespace

struct ClusterClient::TopologyAnswer {
  std::error_code ec;
  std::string problem;  // with ec: the server's or the parser's words, prefixed with the node
  Topology topology;
  std::uint64_t epoch = 0;
};

ClusterClient::TopologyAnswer ClusterClient::query_topology(const NodeAddress& addr, Deadline deadline) {
  TopologyAnswer a;
  auto fail = [&](std::error_code ec, std::string_view words) {
    a.ec = ec;
    a.problem = addr.to_string() + ": " + std::string(words);
    return a;
  };
  // One round trip: the epoch says how new the map is (newest_view()).
  Command batch[2] = {Command{"CLUSTER", "INFO"}, Command{"CLUSTER", "SHARDS"}};
  Reply replies[2];
  if ((a.ec = run_on(addr, batch, 2, replies, deadline, nullptr, /*own_query=*/true))) {
    // The handshake's words (WRONGPASS ...) when it was the handshake that failed.
    const std::string& text = node(addr).error_text();
    if (a.ec == errc::auth_failed && !text.empty()) return fail(a.ec, text);
    return fail(a.ec, a.ec.message());
  }
  // NOAUTH / WRONGPASS without a handshake AUTH (no password configured): bad credentials, not
  // an old server.
  for (const Reply& r : replies)
    if (r.is_error() && classify_error(r.str()) == ErrorKind::Auth)
      return fail(make_error_code(errc::auth_failed), r.str());
  // Every cluster-enabled server knows CLUSTER INFO; an error here is a server that is not in
  // cluster mode ("ERR This instance has cluster support disabled"): say so in its words.
  if (replies[0].is_error()) return fail(make_error_code(errc::protocol_error), replies[0].str());
  a.epoch = current_epoch(replies[0]);
  Reply& reply = replies[1];
  try {
    if (reply.is_error()) {
      // Redis < 7: no CLUSTER SHARDS; CLUSTER SLOTS has the same slot map without health.
      Command slots{"CLUSTER", "SLOTS"};
      if ((a.ec = run_on(addr, &slots, 1, &reply, deadline, nullptr, /*own_query=*/true)))
        return fail(a.ec, a.ec.message());
      if (reply.is_error()) return fail(make_error_code(errc::protocol_error), reply.str());
      a.topology = Topology::from_cluster_slots(reply, addr, options_.address_remap);
    } else {
      a.topology = Topology::from_cluster_shards(reply, addr, options_.address_remap);
    }
  } catch (const ProtocolError& e) {
    return fail(make_error_code(errc::protocol_error), e.what());
  }
  if (a.topology.shards().empty())  // not (yet) in a cluster
    return fail(make_error_code(errc::protocol_error), "the node's slot map names no shard");
  return a;
}

std::error_code ClusterClient::fetch_topology(Deadline deadline, Topology& out) {
  // Known nodes first (they reflect the latest map), then the startup nodes; suspects last, so a
  // stopped node is asked only when nobody else answers.
  std::vector<NodeAddress> candidates;
  if (auto t = holder_->current()) {
    candidates = t->primaries();
    for (NodeAddress& r : t->replicas()) candidates.push_back(std::move(r));
  }
  for (const NodeAddress& s : options_.startup_nodes)
    if (std::find(candidates.begin(), candidates.end(), s) == candidates.end()) candidates.push_back(s);
  std::stable_partition(candidates.begin(), candidates.end(),
                        [this](const NodeAddress& a) { return !watch_->is_suspect(a); });

  auto bound = [&] {
    return std::min(deadline, deadline_after(std::chrono::duration_cast<Clock::duration>(options_.topology_timeout)));
  };
  std::error_code last = make_error_code(errc::not_connected);
  // First wave: a few nodes at once, each bounded by topology_timeout; the newest answer wins.
  const std::size_t wave = std::min(candidates.size(), kParallelQueries);
  std::vector<TopologyAnswer> answers(wave);
  {
    const Deadline d = bound();
    std::vector<Fiber> fibers;
    fibers.reserve(wave);
    for (std::size_t i = 0; i < wave; ++i)
      fibers.emplace_back([&, i] { answers[i] = query_topology(candidates[i], d); });
  }
  std::vector<TopologyView> views;
  std::vector<std::size_t> view_of;
  for (std::size_t i = 0; i < wave; ++i) {
    if (answers[i].ec) {
      topology_problem_ = answers[i].problem;
      if (answers[i].ec == errc::auth_failed) return answers[i].ec;
      last = answers[i].ec;
      continue;
    }
    views.push_back(TopologyView{answers[i].epoch, &answers[i].topology});
    view_of.push_back(i);
  }
  if (!views.empty()) {
    out = std::move(answers[view_of[newest_view(views)]].topology);
    return {};
  }
  // Nobody of the first wave answered: the rest, one at a time.
  for (std::size_t i = wave; i < candidates.size(); ++i) {
    if (expired(deadline)) return make_error_code(errc::timeout);
    TopologyAnswer a = query_topology(candidates[i], bound());
    if (!a.ec) {
      out = std::move(a.topology);
      return {};
    }
    topology_problem_ = a.problem;
    if (a.ec == errc::auth_failed) return a.ec;
    last = a.ec;
  }
  return last;
}

void ClusterClient::on_topology_swap(const Topology& before, const Topology& after) {
  // A node that stopped being a primary (demoted, failed, gone) may have callers parked on its
  // shared connection that will never be answered (a stopped node) or will be told READONLY:
  // break it so they fail over now, under the retry rules, instead of at their deadline.
  const auto now = Clock::now();
  for (const NodeAddress& p : before.primaries()) {
    if (after.role_of(p) == NodeRole::Primary) continue;
    watch_->forget(p, now);
    if (auto it = nodes_.find(p); it != nodes_.end())
      it->second->shared().break_connection(make_error_code(errc::connection_closed));
    if (default_node_ == p && !after.primaries().empty()) default_node_ = after.primaries().front();
  }
}

void ClusterClient::check_coverage(const Topology& t) {
  if (t.fully_covered() || options_.skip_full_coverage_check) return;
  // Honour the servers' own setting: with cluster-require-full-coverage no, they serve the
  // covered slots, and so do we. Ask a primary that owns slots; with none (every shard is
  // failed, or no slot is assigned yet) ask any node the map names.
  std::vector<NodeAddress> ask = t.primaries();
  if (ask.empty()) ask = t.all_nodes();
  for (const NodeInfo& n : t.nodes())
    if (ask.empty() && n.health != NodeHealth::Failed) ask.push_back(n.address);
  if (!ask.empty()) {
    Reply r = execute_on_one(Command{"CONFIG", "GET", "cluster-require-full-coverage"}, ask.front(),
                             deadline_after(options_.command_timeout), false);
    if (r.is_array() && r.elements().size() == 2 && r.elements()[1].str() == "no") return;
  }
  std::string holes;
  for (auto [a, b] : t.uncovered_ranges())
    holes += (holes.empty() ? "" : ", ") + std::to_string(a) + "-" + std::to_string(b);
  throw SlotNotCoveredError("not all slots are covered by the cluster (uncovered: " + holes + ")");
}

void ClusterClient::refresh_topology() {
  if (std::error_code ec = holder_->refresh_now(deadline_after(options_.command_timeout)))
    throw_error(ec, "refreshing the cluster slot map" +
                        (topology_problem_.empty() ? std::string() : " (" + topology_problem_ + ")"));
}

void ClusterClient::refresh_after_fault(std::uint64_t seen_version, Deadline deadline) {
  holder_->refresh(seen_version, deadline);  // a failure here shows up as the retry's own error
}

// ---- dead-node detection ------------------------------------------------------------------

std::error_code ClusterClient::run_on(const NodeAddress& addr, const Command* cmds, std::size_t n, Reply* out,
                                      Deadline deadline, bool* written, bool own_query, bool replica_read) {
  NodeConnections& conns = replica_read ? replica_node(addr) : node(addr);
  // A command the server may hold (BLPOP...) is silent by design: it says nothing of the node.
  const bool watched = std::none_of(cmds, cmds + n, [](const Command& c) { return c.blocking.has_value(); });
  if (!watched) return conns.run(cmds, n, out, deadline, written);
  watch_->started(addr, Clock::now());
  if (watchdog_idle_) wake_watchdog();  // silence is only noticed while the watchdog ticks
  const std::error_code ec = own_query && !auto_flush_ ? conns.run_exclusive(cmds, n, out, deadline, written)
                                                       : conns.run(cmds, n, out, deadline, written);
  const Outcome o = classify_failure(ec);
  watch_->finished(addr, Clock::now(), o != Outcome::ConnectionError && o != Outcome::Timeout);
  if (o == Outcome::ConnectionError || o == Outcome::Timeout) wake_watchdog();
  return ec;
}

void ClusterClient::mark_suspect(const NodeAddress& addr) {
  const bool was = watch_->is_suspect(addr);
  watch_->suspect(addr, Clock::now());
  if (!was) wake_watchdog();
}

void ClusterClient::request_background_refresh() {
  if (background_refresh_wanted_) return;
  background_refresh_wanted_ = true;
  wake_watchdog();
}

void ClusterClient::wake_watchdog() {
  if (watchdog_sleeper_ != nullptr && watchdog_idle_) watchdog_sleeper_->unpark();
}

void ClusterClient::watchdog_loop() {
  // Rules, in order, every pass:
  //  1. While calls are outstanding, tick every fault_refresh_interval: a node silent for
  //     suspect_after becomes suspect.
  //  2. While a node is suspect or a caller saw CLUSTERDOWN / an uncovered slot, refresh the map
  //     (other nodes first), at most once per fault_refresh_interval for the whole client.
  //  3. Otherwise refresh when none ran for refresh_interval (if set).
  //  4. With nothing of the above pending, sleep until the periodic refresh is due (or forever)
  //     and let a caller wake us (watchdog_idle_).
  const auto fault_interval = std::chrono::duration_cast<Clock::duration>(options_.fault_refresh_interval);
  const auto periodic = std::chrono::duration_cast<Clock::duration>(options_.refresh_interval);
  while (!stopping_) {
    const auto now = Clock::now();
    const bool suspects = watch_->tick(now);
    const bool urgent = suspects || background_refresh_wanted_;
    if (urgent && now - holder_->last_refresh() >= fault_interval && !holder_->refreshing()) {
      background_refresh_wanted_ = false;
      holder_->refresh_now(deadline_after(2 * std::chrono::duration_cast<Clock::duration>(options_.topology_timeout)));
    } else if (!urgent && periodic.count() > 0 && now - holder_->last_refresh() >= periodic && !holder_->refreshing()) {
      holder_->refresh_now(deadline_after(std::chrono::duration_cast<Clock::duration>(options_.command_timeout)));
    }
    if (stopping_) break;
    Deadline wake = kNoDeadline;
    const bool ticking = urgent || watch_->busy() || watch_->any_suspect() || background_refresh_wanted_;
    if (ticking) {
      wake = deadline_after(fault_interval);
    } else if (periodic.count() > 0) {
      wake = std::max(holder_->last_refresh() + periodic, Clock::now() + fault_interval);
    }
    Parker sleeper;  // bound to this fiber; callers and the destructor wake it
    watchdog_sleeper_ = &sleeper;
    watchdog_idle_ = !ticking;
    sleeper.park(wake);
    watchdog_sleeper_ = nullptr;
    watchdog_idle_ = false;
  }
}

}  // namespace fibredis
