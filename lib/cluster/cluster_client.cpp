// ClusterClient: the surface. It owns the parts (detail/cluster/) and wires them together:
// NodeRegistry (connections), TopologyHolder (the slot map), Router (where a command goes),
// RetryLoop (until the answer), FanOut (many nodes at once); the slot-map reading and the
// watchdog are cluster_client_topology.cpp, pipelines and transactions their own files.
#include <fibredis/cluster/cluster_client.hpp>

#include <fibredis/cluster/command_route.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/fan_out.hpp>
#include <fibredis/detail/cluster/node_registry.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_loop.hpp>
#include <fibredis/detail/cluster/router.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>
#include <fibredis/errors.hpp>

#include <algorithm>

namespace fibredis {

namespace {

// DEL, UNLINK, EXISTS and TOUCH count keys, so a cross-slot call can be split per slot and the
// counts added (redis-py does the same); every other multi-key command must stay in one slot.
bool summable_multi_key(std::string_view name) {
  const std::string u = ascii_upper(name);
  return u == "DEL" || u == "UNLINK" || u == "EXISTS" || u == "TOUCH";
}

ClusterOptions single_node_options(std::string host, std::uint16_t port) {
  ClusterOptions o;
  o.startup_nodes.push_back(NodeAddress{std::move(host), port});
  return o;
}

[[noreturn]] void refuse_blocked(const Command& cmd, const CommandRoute& route) {
  throw UsageError(ascii_upper(cmd.name()) + " is not allowed in cluster mode: " + std::string(route.blocked_reason));
}

}  // namespace

ClusterClient::ClusterClient(std::string host, std::uint16_t port)
    : ClusterClient(single_node_options(std::move(host), port)) {}

ClusterClient::ClusterClient(std::string_view url) : ClusterClient(ClusterOptions::from_url(url)) {}

ClusterClient::ClusterClient(ClusterOptions options)
    : options_(std::move(options)),
      nodes_(std::make_unique<NodeRegistry>(options_, &stats_)),
      holder_(std::make_unique<TopologyHolder>(
          [this](Deadline d, Topology& t) { return fetch_topology(d, t); }, options_.min_refresh_interval,
          [this](const Topology& before, const Topology& after) { on_topology_swap(before, after); },
          TopologyHolder::MovedPolicy{
              .steps = options_.reinitialize_steps,
              .max_interval = options_.refresh_interval.count() > 0 ? options_.refresh_interval
                                                                    : TopologyHolder::MovedPolicy{}.max_interval},
          options_.fault_refresh_interval)),
      watch_(std::make_unique<NodeWatch>(std::min(options_.suspect_after, options_.command_timeout),
                                         2 * options_.command_timeout)),
      router_(std::make_unique<Router>(*holder_, options_.read_from_replicas)),
      retry_(std::make_unique<RetryLoop>(*this)),
      fan_out_(std::make_unique<FanOut>(*this)) {
  if (options_.startup_nodes.empty()) throw UsageError("ClusterClient needs at least one startup node");
  const Deadline deadline = deadline_after(options_.connect_timeout * static_cast<long>(options_.startup_nodes.size()) +
                                           options_.command_timeout);
  if (std::error_code ec = holder_->refresh_now(deadline)) {
    std::string names;
    for (const NodeAddress& a : options_.startup_nodes) names += (names.empty() ? "" : ", ") + a.to_string();
    // The last node's own words: WRONGPASS, "cluster support disabled", the parser's complaint.
    const std::string why = topology_problem_.empty() ? std::string() : ": " + topology_problem_;
    if (ec == errc::auth_failed) throw AuthenticationError("cluster authentication failed (" + names + ")" + why, ec);
    throw_error(ec, "no startup node answered with the cluster's slot map (" + names + ")" + why);
  }
  check_coverage(*holder_->current());
  // A map without a slot-owning primary (every slot unassigned, with skip_full_coverage_check)
  // still names its nodes: keyless commands go to one of them.
  if (!holder_->current()->primaries().empty()) {
    router_->set_default_node(router_->random_primary());
  } else if (!holder_->current()->all_nodes().empty()) {
    router_->set_default_node(holder_->current()->all_nodes().front());
  }
  watchdog_ = Fiber([this] { watchdog_loop(); });
}

ClusterClient::~ClusterClient() {
  drain_async();  // async commands may still need the nodes and the refresher
  stopping_ = true;
  if (watchdog_.joinable()) {
    // The watchdog parks on its own Parker between passes; wake it so the join is immediate.
    if (watchdog_sleeper_) watchdog_sleeper_->unpark();
    watchdog_.join();
  }
}

std::shared_ptr<const Topology> ClusterClient::topology() const noexcept { return holder_->current(); }
std::uint64_t ClusterClient::topology_refreshes() const noexcept { return holder_->refreshes(); }

// ---- nodes ------------------------------------------------------------------------------

std::optional<NodeStats> ClusterClient::node_stats(const NodeAddress& node) const {
  NodeConnections* conns = nodes_->find(node);
  if (conns == nullptr) return std::nullopt;
  NodeStats s;
  s.shared_connected = conns->shared().connected();
  s.shared_connects = conns->shared().connects();
  s.shared_in_flight = conns->shared().in_flight();
  s.pool_open = conns->pool().open();
  s.pool_idle = conns->pool().idle();
  s.pool_in_use = conns->pool().in_use();
  s.pool_created = conns->pool().created();
  return s;
}

// ---- NodeClient (cluster/node_client.hpp) -----------------------------------------------------

Reply NodeClient::execute(const Command& cmd) {
  if (cmd.empty()) throw UsageError("empty command");
  if (const CommandRoute route = command_route(lookup_command(cmd)); route.policy == RoutePolicy::Blocked)
    throw UsageError(ascii_upper(cmd.name()) + " is not allowed on a cluster node client: " +
                     std::string(route.blocked_reason));
  return client_->fan_out_->execute_on_node(node_, cmd, call_deadline(client_->options_.command_timeout, &cmd, 1));
}

void ClusterClient::set_auto_flush(bool on) { nodes_->set_auto_flush(on); }
bool ClusterClient::auto_flush() const noexcept { return nodes_->auto_flush(); }
void ClusterClient::flush() { nodes_->flush(); }
void ClusterClient::flush(const NodeAddress& address) { nodes_->flush(address); }

ClientStats ClusterClient::stats() const noexcept {
  ClientStats s = stats_;
  s.refreshes = holder_->refreshes();
  if (UringScheduler* sched = UringScheduler::current()) s.ring_enters = sched->enters();
  return s;
}

NodeAddress ClusterClient::get_default_node() const { return router_->default_node(); }
void ClusterClient::set_default_node(const NodeAddress& node) { router_->set_default_node(node); }

std::optional<NodeAddress> ClusterClient::get_node(const std::string& host, std::uint16_t port) const {
  NodeAddress a{host, port};
  if (holder_->current()->role_of(a)) return a;
  return std::nullopt;
}

std::vector<NodeAddress> ClusterClient::get_primaries() const { return holder_->current()->primaries(); }
std::vector<NodeAddress> ClusterClient::get_replicas() const { return holder_->current()->replicas(); }
std::vector<NodeAddress> ClusterClient::get_nodes() const { return holder_->current()->all_nodes(); }

NodeAddress ClusterClient::get_node_from_key(std::string_view key, bool replica) const {
  const std::uint16_t slot = key_slot(key);
  const auto t = holder_->current();
  const Shard* shard = t->shard_for_slot(slot);
  if (shard == nullptr) throw SlotNotCoveredError("slot " + std::to_string(slot) + " is not served by any node");
  if (!replica) return shard->primary;
  // Shard::replicas is sorted: the first is a stable answer that moves no round-robin.
  if (shard->replicas.empty())
    throw ClusterError("slot " + std::to_string(slot) + " (primary " + shard->primary.to_string() +
                       ") has no online replica");
  return shard->replicas.front();
}

void ClusterClient::readonly(const Target& target) { router_->readonly(target); }
void ClusterClient::readwrite(const Target& target) { router_->readwrite(target); }
bool ClusterClient::read_from_replicas() const noexcept { return router_->replica_reads(); }

// ---- routing ----------------------------------------------------------------------------

std::optional<std::uint16_t> ClusterClient::command_slot(const Command& cmd) { return Router::command_slot(cmd); }

Reply ClusterClient::execute(const Command& cmd) {
  if (cmd.empty()) throw UsageError("empty command");
  const CommandInfo* info = lookup_command(cmd);
  const CommandRoute route = command_route(info);
  const Deadline deadline = call_deadline(options_.command_timeout, &cmd, 1);
  if (route.policy == RoutePolicy::Blocked) {
    if (ascii_upper(cmd.name()) == "SELECT" && cmd.size() == 2 && cmd[1] == "0") return Reply::status("OK");
    refuse_blocked(cmd, route);
  }
  if (route.policy == RoutePolicy::ByKey) {
    std::optional<std::uint16_t> slot;
    try {
      slot = Router::command_slot(cmd);
    } catch (const CrossSlotError&) {
      if (summable_multi_key(cmd.name())) return fan_out_->execute_split(cmd, MergePolicy::Sum, deadline);
      throw;
    }
    if (slot) return retry_->execute_on_slot(cmd, *slot, info && info->has(kReadOnly), deadline);
    // no key (EVAL with numkeys 0, an unknown keyless command): route_keyless
  }
  Router::KeylessRoute keyless = router_->route_keyless(cmd, info);
  if (keyless.slot) return retry_->execute_on_slot(cmd, *keyless.slot, false, deadline);
  if (keyless.merge) return merge_replies(*keyless.merge, fan_out_->execute_on_nodes(keyless.nodes, cmd, deadline));
  return retry_->execute_on_one(cmd, keyless.nodes.front(), deadline, true);
}

PerNode<Reply> ClusterClient::execute_on(const Target& target, const Command& cmd) {
  if (const CommandRoute route = command_route(lookup_command(cmd)); route.policy == RoutePolicy::Blocked)
    refuse_blocked(cmd, route);
  NodeReplies replies =
      fan_out_->execute_on_nodes(router_->resolve_target(target), cmd, call_deadline(options_.command_timeout, &cmd, 1));
  PerNode<Reply> out;
  for (auto& [node, reply] : replies) out.emplace(std::move(node), std::move(reply));
  return out;
}

// ---- cross-slot helpers --------------------------------------------------------------------

std::vector<std::optional<std::string>> ClusterClient::mget_nonatomic(const ArgList& keys) {
  return fan_out_->mget(keys, deadline_after(options_.command_timeout));
}

void ClusterClient::mset_nonatomic(const PairList<std::string_view>& kvs) {
  fan_out_->mset(kvs, deadline_after(options_.command_timeout));
}

ScanRange<std::string> ClusterClient::scan_iter(ScanOptions o) {
  std::vector<ScanRange<std::string>::PageFetcher> fetchers;
  for (const NodeAddress& primary : get_primaries()) {
    fetchers.push_back([this, primary, o](std::uint64_t cursor) {
      Command cmd{"SCAN"};
      cmd.arg(cursor);
      if (!o.match.empty()) cmd.arg("MATCH").arg(o.match);
      if (o.count > 0) cmd.arg("COUNT").arg(static_cast<unsigned long long>(o.count));
      if (!o.type.empty()) cmd.arg("TYPE").arg(o.type);
      // A primary that failed over mid-scan is an error, not a silent gap in the results.
      Reply r = retry_->execute_on_one(cmd, primary, call_deadline(options_.command_timeout, &cmd, 1), false);
      return parse::Scan::parse(std::move(r));
    });
  }
  return ScanRange<std::string>(std::move(fetchers));
}

}  // namespace fibredis
