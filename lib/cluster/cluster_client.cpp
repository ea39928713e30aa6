#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/runtime/parker.hpp>

#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>
#include <set>

namespace fibredis {

namespace {

std::string upper(std::string_view s) { return ascii_upper(s); }

// DEL, UNLINK, EXISTS and TOUCH count keys, so a cross-slot call can be split per slot and the
// counts added (redis-py does the same); every other multi-key command must stay in one slot.
bool summable_multi_key(std::string_view name) {
  const std::string u = upper(name);
  return u == "DEL" || u == "UNLINK" || u == "EXISTS" || u == "TOUCH";
}

ClusterOptions single_node_options(std::string host, std::uint16_t port) {
  ClusterOptions o;
  o.startup_nodes.push_back(NodeAddress{std::move(host), port});
  return o;
}

}  // namespace

ClusterClient::ClusterClient(std::string host, std::uint16_t port)
    : ClusterClient(single_node_options(std::move(host), port)) {}

ClusterClient::ClusterClient(std::string_view url) : ClusterClient(ClusterOptions::from_url(url)) {}

ClusterClient::ClusterClient(ClusterOptions options)
    : options_(std::move(options)),
      holder_(std::make_unique<TopologyHolder>(
          [this](Deadline d, Topology& t) { return fetch_topology(d, t); }, options_.min_refresh_interval,
          [this](const Topology& before, const Topology& after) { on_topology_swap(before, after); },
          TopologyHolder::MovedPolicy{
              .steps = options_.reinitialize_steps,
              .max_interval = options_.refresh_interval.count() > 0 ? options_.refresh_interval
                                                                    : TopologyHolder::MovedPolicy{}.max_interval},
          options_.fault_refresh_interval)),
      watch_(std::make_unique<NodeWatch>(std::min(options_.suspect_after, options_.command_timeout),
                                         2 * options_.command_timeout)) {
  if (options_.startup_nodes.empty()) throw UsageError("ClusterClient needs at least one startup node");
  replica_reads_all_ = options_.read_from_replicas;
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
    default_node_ = random_primary();
  } else if (!holder_->current()->all_nodes().empty()) {
    default_node_ = holder_->current()->all_nodes().front();
  }
  watchdog_ = Fiber([this] { watchdog_loop(); });
}

std::shared_ptr<const Topology> ClusterClient::topology() const noexcept { return holder_->current(); }
std::uint64_t ClusterClient::topology_refreshes() const noexcept { return holder_->refreshes(); }
RetryPolicy ClusterClient::retry_policy() const noexcept {
  return {options_.max_redirects, options_.retry_unknown_writes};
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

// ---- nodes ------------------------------------------------------------------------------

NodeConnections& ClusterClient::node(const NodeAddress& address) {
  auto it = nodes_.find(address);
  if (it == nodes_.end())
    it = nodes_.emplace(address, std::make_unique<NodeConnections>(options_.node_options(address), &stats_)).first;
  if (!auto_flush_) it->second->shared().set_auto_flush(false);
  return *it->second;
}

void ClusterClient::set_auto_flush(bool on) {
  auto_flush_ = on;
  for (auto& [address, conns] : nodes_) conns->shared().set_auto_flush(on);
  for (auto& [address, conns] : readonly_nodes_) conns->shared().set_auto_flush(on);
}

void ClusterClient::flush() {
  // Every node's queue at once: each connection's writer sends its own in one write.
  for (auto& [address, conns] : nodes_) conns->shared().flush();
  for (auto& [address, conns] : readonly_nodes_) conns->shared().flush();
}

void ClusterClient::flush(const NodeAddress& address) {
  if (auto it = nodes_.find(address); it != nodes_.end()) it->second->shared().flush();
  if (auto it = readonly_nodes_.find(address); it != readonly_nodes_.end()) it->second->shared().flush();
}

ClientStats ClusterClient::stats() const noexcept {
  ClientStats s = stats_;
  s.refreshes = holder_->refreshes();
  if (UringScheduler* sched = UringScheduler::current()) s.ring_enters = sched->enters();
  return s;
}

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

NodeAddress ClusterClient::random_primary() {
  std::vector<NodeAddress> p = holder_->current()->primaries();
  if (p.empty()) throw SlotNotCoveredError("the cluster has no primary");
  static thread_local std::minstd_rand rng{std::random_device{}()};
  return p[rng() % p.size()];
}

NodeAddress ClusterClient::pick_for_read(const Shard& shard) {
  if (shard.replicas.empty() || (!replica_reads_all_ && replica_reads_.empty())) return shard.primary;
  if (replica_reads_all_) {
    const std::size_t i = round_robin_++ % (shard.replicas.size() + 1);  // primary, then each replica
    return i == 0 ? shard.primary : shard.replicas[i - 1];
  }
  // readonly(nodes): only the enabled replicas of this shard take turns with the primary.
  thread_local std::vector<const NodeAddress*> enabled;
  enabled.clear();
  for (const NodeAddress& r : shard.replicas)
    if (replica_reads_.count(r) != 0) enabled.push_back(&r);
  if (enabled.empty()) return shard.primary;
  const std::size_t i = round_robin_++ % (enabled.size() + 1);
  return i == 0 ? shard.primary : *enabled[i - 1];
}

std::vector<NodeAddress> ClusterClient::resolve_target(const Target& target) {
  const auto t = holder_->current();
  switch (target.kind()) {
    case Target::Kind::Primaries: return t->primaries();
    case Target::Kind::Replicas: return t->replicas();
    case Target::Kind::AllNodes: return t->all_nodes();
    case Target::Kind::Random: {
      auto all = t->all_nodes();
      return {all[round_robin_++ % all.size()]};
    }
    case Target::Kind::Default: return {default_node_};
    case Target::Kind::Nodes:
    default: return target.nodes();
  }
}

// ---- routing ----------------------------------------------------------------------------

std::optional<std::uint16_t> ClusterClient::command_slot(const Command& cmd) {
  thread_local std::vector<std::size_t> keys;
  key_positions(cmd, keys);
  if (keys.empty()) return std::nullopt;
  const std::uint16_t slot = key_slot(cmd[keys[0]]);
  for (std::size_t i = 1; i < keys.size(); ++i)
    if (key_slot(cmd[keys[i]]) != slot)
      throw CrossSlotError("CROSSSLOT keys of " + upper(cmd.name()) +
                           " hash to different slots; use keys with a common {hash tag}, or a _nonatomic helper");
  return slot;
}

Deadline ClusterClient::deadline_for(const Command& cmd) const {
  auto budget = std::chrono::duration_cast<Clock::duration>(options_.command_timeout);
  if (cmd.blocking) {
    if (cmd.blocking->count() == 0) return kNoDeadline;
    budget += *cmd.blocking;
  }
  return deadline_after(budget);
}

Reply ClusterClient::execute(const Command& cmd) {
  if (cmd.empty()) throw UsageError("empty command");
  const CommandInfo* info = lookup_command(cmd);
  const Deadline deadline = deadline_for(cmd);
  if (info != nullptr && info->policy == RoutePolicy::Blocked) {
    if (upper(cmd.name()) == "SELECT" && cmd.size() == 2 && cmd[1] == "0") return Reply::status("OK");
    throw UsageError(upper(cmd.name()) + " is not allowed in cluster mode: " + std::string(info->blocked_reason));
  }
  if (info == nullptr || info->policy == RoutePolicy::ByKey) {
    std::optional<std::uint16_t> slot;
    try {
      slot = command_slot(cmd);
    } catch (const CrossSlotError&) {
      if (summable_multi_key(cmd.name())) return execute_split(cmd, MergePolicy::Sum, deadline);
      throw;
    }
    if (slot) return execute_on_slot(cmd, *slot, info && info->has(kReadOnly), deadline);
    // no key (EVAL with numkeys 0, an unknown keyless command): route_keyless
  }
  KeylessRoute route = route_keyless(cmd, info);
  if (route.slot) return execute_on_slot(cmd, *route.slot, false, deadline);
  if (route.merge) return merge_replies(*route.merge, execute_on_nodes(route.nodes, cmd, deadline));
  return execute_on_one(cmd, route.nodes.front(), deadline, true);
}

ClusterClient::KeylessRoute ClusterClient::route_keyless(const Command& cmd, const CommandInfo* info) {
  KeylessRoute r;
  const RoutePolicy policy = info ? info->policy : RoutePolicy::ByKey;
  switch (policy) {
    case RoutePolicy::ByKey:
      // Keyless after all: an unknown command asks the default node; a known one (EVAL with
      // numkeys 0) any primary.
      r.nodes.push_back(info == nullptr ? default_node_ : random_primary());
      break;
    case RoutePolicy::ByChannel:
      if (cmd.size() >= 2) {
        r.slot = key_slot(cmd[1]);
      } else {
        r.nodes.push_back(default_node_);
      }
      break;
    case RoutePolicy::BySlotArg: {
      unsigned slot = 0;
      if (cmd.size() > 2) {
        const std::string_view s = cmd[2];
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), slot);
        if (ec == std::errc() && p == s.data() + s.size() && slot < kSlotCount) r.slot = static_cast<std::uint16_t>(slot);
      }
      if (!r.slot) r.nodes.push_back(default_node_);
      break;
    }
    case RoutePolicy::AllNodes:
    case RoutePolicy::AllPrimaries:
      if (info->merge == MergePolicy::PerNode) {
        r.nodes.push_back(default_node_);
      } else {
        r.nodes = policy == RoutePolicy::AllNodes ? holder_->current()->all_nodes() : holder_->current()->primaries();
        r.merge = info->merge;
      }
      break;
    case RoutePolicy::RandomNode: {
      auto all = holder_->current()->all_nodes();
      r.nodes.push_back(all.empty() ? default_node_ : all[round_robin_++ % all.size()]);
      break;
    }
    case RoutePolicy::RandomPrimary:
      r.nodes.push_back(random_primary());
      break;
    case RoutePolicy::DefaultNode:
    default:
      r.nodes.push_back(default_node_);
      break;
  }
  return r;
}

void ClusterClient::backoff(int attempt, Deadline deadline) {
  boost::this_fiber::sleep_until(std::min(deadline, deadline_after(backoff_delay(attempt))));
}

[[noreturn]] void ClusterClient::fail(std::error_code ec, const NodeAddress& node, std::string_view what) {
  if (ec == errc::auth_failed) {
    const std::string& text = this->node(node).error_text();
    throw AuthenticationError((text.empty() ? std::string("authentication failed") : text) + " (" + node.to_string() + ")", ec);
  }
  if (classify_failure(ec) == Outcome::Timeout) ++stats_.timeouts;
  // A protocol error keeps the parser's words (see Client::fail).
  const std::string& words = this->node(node).error_text();
  if (ec == errc::protocol_error && !words.empty())
    throw_error(ec, upper(what) + " on " + node.to_string() + ": " + words);
  throw_error(ec, upper(what) + " on " + node.to_string());
}

[[noreturn]] void ClusterClient::give_up(const Command& cmd, Outcome outcome, std::error_code ec, const NodeAddress& node,
                                         const std::string& last_problem) {
  const std::string name = upper(cmd.name());
  switch (outcome) {
    case Outcome::ConnectionError:
    case Outcome::Timeout:
    case Outcome::Fatal:
      fail(ec, node, cmd.name());
    case Outcome::Moved:
    case Outcome::Ask:
      throw RedirectLimitError(name + ": TTL exhausted after " + std::to_string(options_.max_redirects) +
                               " sends (last: " + last_problem + ")");
    case Outcome::SlotNotCovered:
      throw SlotNotCoveredError(name + ": " + last_problem + " by any node");
    case Outcome::ClusterDown:
      throw ClusterDownError(name + ": deadline passed while the cluster was down (last: " + last_problem + ")");
    case Outcome::TryAgain:
      throw TryAgainError(name + ": deadline passed while retrying (last: " + last_problem + ")");
    default:
      ++stats_.timeouts;
      throw TimeoutError(name + " deadline passed while retrying (last: " + last_problem + ")");
  }
}

Reply ClusterClient::execute_on_slot(const Command& cmd, std::uint16_t slot, bool read_only, Deadline deadline) {
  const RetryPolicy policy = retry_policy();
  std::optional<NodeAddress> ask_target;
  std::string last_problem;
  bool primary_only = false;
  int redirects = 0;
  int faults = 0;  // back-offs so far: the pause doubles with each
  // Bounded by the deadline (every branch below that does not return waits or makes a round trip)
  // and, for redirects, by max_redirects; the count is a last guard against a deadline of never.
  for (long pass = 0; pass < 1'000'000; ++pass) {
    const std::uint64_t version = holder_->version();
    const auto topology = holder_->current();
    Attempt a{.read_only = read_only, .redirects = redirects};
    NodeAddress target;
    Reply replies[2];
    std::error_code ec;
    if (ask_target) {
      target = *ask_target;
    } else if (const Shard* shard = topology->shard_for_slot(slot)) {
      target = read_only && !primary_only ? pick_for_read(*shard) : shard->primary;
      a.via_replica = !(target == shard->primary);
    } else {
      // Uncovered right now (a failover in progress).
      a.outcome = Outcome::SlotNotCovered;
      last_problem = "slot " + std::to_string(slot) + " not covered";
    }
    if (a.outcome == Outcome::None) {
      if (ask_target) {
        // ASK: this one command, once, at the importing node, preceded by ASKING (spec §ASK).
        Command batch[2] = {Command{"ASKING"}, cmd};
        ec = run_on(target, batch, 2, replies, deadline, &a.written);
        replies[0] = std::move(replies[1]);
        ask_target.reset();
      } else {
        ec = run_on(target, &cmd, 1, replies, deadline, &a.written, false, a.via_replica);
      }
      a.outcome = ec ? classify_failure(ec) : classify_outcome(replies[0]);
      if (ec) {
        last_problem = target.to_string() + ": " + ec.message();
      } else if (a.outcome != Outcome::Final) {
        last_problem = std::string(replies[0].str());
      }
    }
    const Decision d = decide(policy, a);
    if (d.action == Action::Done) return std::move(replies[0]);
    if (d.suspect_node) mark_suspect(target);
    if (d.action == Action::GiveUp) give_up(cmd, a.outcome, ec, target, last_problem);

    if (d.redirect) {
      ++stats_.redirects;
      ++redirects;
      follow_redirect(replies[0], target, a.outcome == Outcome::Ask, version, deadline, ask_target);
    } else {
      ++stats_.retries;
    }
    if (d.primary_only) {
      // A replica failed the read: the primary is the next try, at once (no refresh, no pause).
      primary_only = true;
      continue;
    }
    if (d.refresh == Refresh::Wait) {
      refresh_after_fault(version, deadline);
    } else if (d.refresh == Refresh::Background) {
      request_background_refresh();
    }
    if (d.back_off) backoff(faults++, deadline);
    if (expired(deadline)) give_up(cmd, a.outcome, ec ? ec : make_error_code(errc::timeout), target, last_problem);
  }
  give_up(cmd, Outcome::Timeout, make_error_code(errc::timeout), NodeAddress{}, last_problem);
}

void ClusterClient::follow_redirect(const Reply& reply, const NodeAddress& from, bool ask, std::uint64_t version,
                                    Deadline deadline, std::optional<NodeAddress>& ask_target) {
  auto r = parse_redirect(reply.str());  // classify_outcome checked it parses
  if (r->host.empty()) r->host = from.host;
  NodeAddress to{r->host, r->port};
  if (options_.address_remap) to = options_.address_remap(to);
  if (ask) {
    ask_target = to;
    return;
  }
  // Patched at once; a full refresh only when the holder says one is due (its MOVED back-off).
  if (holder_->moved(r->slot, to)) refresh_after_fault(version, deadline);
  // Go where the server says even if the refreshed map still disagrees (it converges).
  if (auto s = holder_->current()->shard_for_slot(r->slot); !s || !(s->primary == to)) holder_->move_slot(r->slot, to);
}

Reply ClusterClient::execute_on_one(const Command& cmd, const NodeAddress& target, Deadline deadline, bool any_primary) {
  const RetryPolicy policy = retry_policy();
  const CommandInfo* info = lookup_command(cmd);
  NodeAddress to = target;
  for (int faults = 0; faults < 1'000'000; ++faults) {
    Reply reply;
    const std::uint64_t version = holder_->version();
    Attempt a{.read_only = info != nullptr && info->has(kReadOnly), .fixed_node = true};
    std::error_code ec = run_on(to, &cmd, 1, &reply, deadline, &a.written);
    if (!ec) return reply;
    a.outcome = classify_failure(ec);
    const Decision d = decide(policy, a);
    if (d.suspect_node) mark_suspect(to);
    // A command for one chosen node cannot go elsewhere; a keyless one may run on any primary.
    if (d.action != Action::Retry || !any_primary) fail(ec, to, cmd.name());
    ++stats_.retries;
    refresh_after_fault(version, deadline);
    backoff(faults, deadline);
    if (expired(deadline)) fail(ec, to, cmd.name());
    to = random_primary();
    if (target == default_node_) default_node_ = to;
  }
  fail(make_error_code(errc::timeout), to, cmd.name());
}

NodeReplies ClusterClient::execute_on_nodes(const std::vector<NodeAddress>& nodes, const Command& cmd, Deadline deadline) {
  NodeReplies replies(nodes.size());
  std::vector<std::error_code> errors(nodes.size());
  {
    // One fiber per node, all at once; the shared connections batch them.
    std::vector<Fiber> fibers;
    fibers.reserve(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      replies[i].first = nodes[i];
      fibers.emplace_back([&, i] { errors[i] = run_on(nodes[i], &cmd, 1, &replies[i].second, deadline); });
    }
  }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (errors[i]) fail(errors[i], nodes[i], cmd.name());
  return replies;
}

NodeReplies ClusterClient::execute_on(const Target& target, const Command& cmd) {
  const CommandInfo* info = lookup_command(cmd);
  if (info != nullptr && info->policy == RoutePolicy::Blocked)
    throw UsageError(upper(cmd.name()) + " is not allowed in cluster mode: " + std::string(info->blocked_reason));
  return execute_on_nodes(resolve_target(target), cmd, deadline_for(cmd));
}

Reply ClusterClient::execute_split(const Command& cmd, MergePolicy merge, Deadline deadline) {
  // Group the keys by slot; each group becomes the same command with only its keys.
  std::vector<std::size_t> keys;
  key_positions(cmd, keys);
  std::map<std::uint16_t, Command> parts;
  for (std::size_t k : keys) {
    auto [it, fresh] = parts.try_emplace(key_slot(cmd[k]));
    if (fresh) it->second.arg(cmd.name());
    it->second.arg(cmd[k]);
  }
  NodeReplies replies;
  replies.reserve(parts.size());
  std::vector<std::exception_ptr> errors(parts.size());
  {
    std::vector<Fiber> fibers;
    std::size_t i = 0;
    for (auto& [slot, part] : parts) {
      replies.emplace_back(NodeAddress{}, Reply{});
      fibers.emplace_back([&, i, slot = slot, p = &part] {
        try {
          replies[i].second = execute_on_slot(*p, slot, false, deadline);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
      ++i;
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return merge_replies(merge, std::move(replies));
}

// ---- cross-slot helpers --------------------------------------------------------------------

std::vector<std::optional<std::string>> ClusterClient::mget_nonatomic(const ArgList& keys) {
  const Deadline deadline = deadline_after(options_.command_timeout);
  std::map<std::uint16_t, std::vector<std::size_t>> by_slot;
  std::size_t idx = 0;
  for (std::string_view k : keys) by_slot[key_slot(k)].push_back(idx++);
  std::vector<std::optional<std::string>> out(idx);
  std::vector<std::exception_ptr> errors(by_slot.size());
  {
    std::vector<Fiber> fibers;
    std::size_t g = 0;
    const std::string_view* key_array = keys.begin();
    for (auto& [slot, positions] : by_slot) {
      fibers.emplace_back([&, g, slot = slot, pos = &positions] {
        try {
          Command cmd{"MGET"};
          for (std::size_t p : *pos) cmd.arg(key_array[p]);
          Reply r = execute_on_slot(cmd, slot, true, deadline);
          auto values = r.as_optional_string_vector();
          for (std::size_t j = 0; j < pos->size() && j < values.size(); ++j) out[(*pos)[j]] = std::move(values[j]);
        } catch (...) {
          errors[g] = std::current_exception();
        }
      });
      ++g;
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

void ClusterClient::mset_nonatomic(const PairList<std::string_view>& kvs) {
  const Deadline deadline = deadline_after(options_.command_timeout);
  std::map<std::uint16_t, Command> parts;
  for (const auto& [k, v] : kvs) {
    auto [it, fresh] = parts.try_emplace(key_slot(k));
    if (fresh) it->second.arg("MSET");
    it->second.arg(k).arg(v);
  }
  std::vector<std::exception_ptr> errors(parts.size());
  {
    std::vector<Fiber> fibers;
    std::size_t g = 0;
    for (auto& [slot, part] : parts) {
      fibers.emplace_back([&, g, slot = slot, p = &part] {
        try {
          execute_on_slot(*p, slot, false, deadline).value();
        } catch (...) {
          errors[g] = std::current_exception();
        }
      });
      ++g;
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
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
      Reply r = execute_on_one(cmd, primary, deadline_for(cmd), false);
      return parse::Scan::parse(std::move(r));
    });
  }
  return ScanRange<std::string>(std::move(fetchers));
}

}  // namespace fibredis
