#include <fibredis/cluster/sharded_pubsub.hpp>

#include <fibredis/detail/client/link_keeper.hpp>
#include <fibredis/detail/client/message_queue.hpp>
#include <fibredis/detail/client/pubsub_link.hpp>
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

namespace fibredis {

namespace {
// An empty link is closed after this long (its last SUNSUBSCRIBE confirmations read first).
constexpr std::chrono::milliseconds kEmptyLinkGrace{1000};
}  // namespace

struct ShardedPubSub::State {
  struct Loss {
    Clock::time_point since;
    std::string why;
  };

  ClusterClient& rc;
  PubSubOptions options;
  MessageQueue queue;
  std::set<std::string> wanted;
  std::map<std::string, NodeAddress> owner;  // the link each channel was sent to
  std::map<std::string, Loss> lost;          // channels whose Gap is due when the new owner confirms
  std::map<NodeAddress, std::unique_ptr<PubSubLink>> links;
  std::map<NodeAddress, Clock::time_point> empty_since;
  std::uint64_t moves = 0;
  LinkKeeper keeper;  // compares the client's slot map with where the channels are

  State(ClusterClient& c, PubSubOptions o) : rc(c), options(o), queue(o.max_queued) {}

  ~State() {
    keeper.stop();
    links.clear();
    queue.close();
  }

  std::optional<NodeAddress> primary_of(std::string_view channel) const {
    const auto topo = rc.topology();
    const Shard* shard = topo->shard_for_slot(key_slot(channel));
    if (shard == nullptr) return std::nullopt;
    return shard->primary;
  }

  void mark_lost(const std::string& ch, const char* why) {
    lost.emplace(ch, Loss{Clock::now(), why});  // keeps the earliest
  }

  PubSubLink& link_for(const NodeAddress& node, bool wait) {
    auto it = links.find(node);
    if (it != links.end()) return *it->second;
    auto link = std::make_unique<PubSubLink>(
        [this, node] { return rc.options().node_options(node); }, options,
        [this, node](PubSubLink& l, Message&& m) { on_message(node, l, std::move(m)); },
        [this](PubSubLink&) {
          keeper.want_refresh();
        });
    if (wait) {
      if (auto ec = link->start()) throw_error(ec, "ssubscribe " + node.to_string() + ": " + link->error_text());
    } else {
      link->launch();
    }
    return *links.emplace(node, std::move(link)).first->second;
  }

  void deliver(Message&& m) { queue.push(std::move(m)); }

  void on_message(const NodeAddress& node, PubSubLink& link, Message&& m) {
    switch (m.kind) {
      case MessageKind::SSubscribe: {
        auto l = lost.find(m.channel);
        if (l != lost.end()) {
          auto o = owner.find(m.channel);
          if (o != owner.end() && o->second == node) gap_for({m.channel}, l->second.since, l->second.why, node);
          return;  // a confirmation from a node it no longer belongs to: the move is not over
        }
        if (wanted.count(m.channel) != 0) deliver(std::move(m));
        return;
      }
      case MessageKind::SUnsubscribe:
        if (m.server_initiated) {
          auto o = owner.find(m.channel);
          if (wanted.count(m.channel) != 0 && o != owner.end() && o->second == node) {
            mark_lost(m.channel, "slot moved");
            owner.erase(o);
            keeper.want_refresh();
          }
          return;
        }
        // Ours (the channel left this node for its new owner) or the user's.
        if (wanted.count(m.channel) == 0) deliver(std::move(m));
        return;
      case MessageKind::Error:
        if (auto r = parse_redirect(m.data); r && !r->ask) {
          // SSUBSCRIBE on a node that no longer owns the slot: patch the map from the redirect
          // and move every channel of that slot that was sent here.
          NodeAddress to{r->host.empty() ? node.host : r->host, r->port};
          if (rc.options().address_remap) to = rc.options().address_remap(to);
          detail::topology_holder(rc).move_slot(r->slot, to);
          std::vector<std::string> gone;
          for (const auto& [ch, at] : owner)
            if (at == node && key_slot(ch) == r->slot) gone.push_back(ch);
          for (const auto& ch : gone) {
            mark_lost(ch, "slot moved");
            owner.erase(ch);
          }
          link.forget(SubscriptionKind::Shard, gone);
          keeper.wake();
          return;
        }
        deliver(std::move(m));
        return;
      case MessageKind::Gap: {
        // The link reconnected and re-subscribed what it still held.
        std::vector<std::string> back;
        Clock::time_point since = m.since;
        for (const auto& ch : link.names(SubscriptionKind::Shard)) {
          auto o = owner.find(ch);
          if (o == owner.end() || !(o->second == node)) continue;
          back.push_back(ch);
          if (auto l = lost.find(ch); l != lost.end()) {
            since = std::min(since, l->second.since);
            lost.erase(l);
            ++moves;
          }
        }
        if (back.empty()) return;
        m.channels = std::move(back);
        m.since = since;
        deliver(std::move(m));
        return;
      }
      default:
        deliver(std::move(m));
        return;
    }
  }

  void gap_for(std::vector<std::string> channels, Clock::time_point since, const std::string& why,
               const NodeAddress& node) {
    Message g;
    g.kind = MessageKind::Gap;
    g.data = why;
    g.node = node.to_string();
    g.since = since;
    g.until = Clock::now();
    for (const auto& ch : channels) {
      if (lost.erase(ch) != 0) ++moves;
    }
    g.channels = std::move(channels);
    deliver(std::move(g));
  }

  void subscribe_on(const NodeAddress& node, const std::vector<std::string>& chs, bool wait) {
    PubSubLink& link = link_for(node, wait);
    link.subscribe(SubscriptionKind::Shard, chs);
    for (const auto& ch : chs) owner[ch] = node;
  }

  // Puts every wanted channel on its slot's current primary.
  void rebalance() {
    std::map<NodeAddress, std::vector<std::string>> to_add;
    for (const auto& ch : wanted) {
      const std::optional<NodeAddress> want = primary_of(ch);
      if (!want) continue;  // uncovered for now: it stays lost until a refresh covers it
      auto o = owner.find(ch);
      if (o != owner.end() && o->second == *want) {
        auto l = links.find(*want);
        if (l != links.end() && l->second->names(SubscriptionKind::Shard).count(ch) != 0) continue;
      }
      if (o != owner.end() && !(o->second == *want)) {
        auto l = links.find(o->second);
        if (l != links.end()) l->second->unsubscribe(SubscriptionKind::Shard, {ch});
      }
      mark_lost(ch, "slot moved");
      to_add[*want].push_back(ch);
    }
    for (auto& [node, chs] : to_add) subscribe_on(node, chs, false);
    const auto now = Clock::now();
    for (auto it = links.begin(); it != links.end();) {
      if (!it->second->empty()) {
        empty_since.erase(it->first);
        ++it;
        continue;
      }
      auto [e, fresh] = empty_since.emplace(it->first, now);
      if (!fresh && now - e->second >= kEmptyLinkGrace) {
        empty_since.erase(e);
        it = links.erase(it);
      } else {
        ++it;
      }
    }
  }
};

ShardedPubSub::ShardedPubSub(ClusterClient& rc, PubSubOptions options)
    : s_(std::make_unique<State>(rc, options)) {}
ShardedPubSub::~ShardedPubSub() = default;
ShardedPubSub::ShardedPubSub(ShardedPubSub&&) noexcept = default;
ShardedPubSub& ShardedPubSub::operator=(ShardedPubSub&&) noexcept = default;

void ShardedPubSub::ssubscribe(const ArgList& channels) {
  if (channels.empty()) throw UsageError("SSUBSCRIBE needs at least one channel");
  State& s = *s_;
  std::map<NodeAddress, std::vector<std::string>> by_node;
  for (std::string_view c : channels) {
    std::string ch(c);
    if (s.wanted.count(ch) != 0) continue;
    const std::optional<NodeAddress> node = s.primary_of(ch);
    if (!node) throw SlotNotCoveredError("ssubscribe " + ch + ": no node serves slot " + std::to_string(key_slot(ch)));
    by_node[*node].push_back(std::move(ch));
  }
  for (auto& [node, chs] : by_node) {
    s.subscribe_on(node, chs, true);
    s.wanted.insert(chs.begin(), chs.end());
  }
  if (!s.keeper.running()) {
    State* st = s_.get();
    st->keeper.start({.stale = [st] { return !st->lost.empty() || any_link_down(st->links); },
                      .refresh = [st] { st->rc.refresh_topology(); },
                      .rebalance = [st] { st->rebalance(); }});
  }
}

void ShardedPubSub::sunsubscribe(const ArgList& channels) {
  State& s = *s_;
  std::vector<std::string> names;
  if (channels.empty()) {
    names.assign(s.wanted.begin(), s.wanted.end());
  } else {
    for (std::string_view c : channels) names.emplace_back(c);
  }
  for (const auto& ch : names) {
    s.wanted.erase(ch);
    s.lost.erase(ch);
    auto o = s.owner.find(ch);
    if (o == s.owner.end()) continue;
    auto l = s.links.find(o->second);
    if (l != s.links.end()) l->second->unsubscribe(SubscriptionKind::Shard, {ch});
    s.owner.erase(o);
  }
}

long long ShardedPubSub::spublish(std::string_view channel, std::string_view message) {
  return s_->rc.spublish(channel, message);
}

std::optional<Message> ShardedPubSub::get_message(std::chrono::milliseconds timeout) {
  return s_->queue.pop(deadline_after(timeout));
}

void ShardedPubSub::set_handler(std::function<void(Message&&)> handler) { s_->queue.set_handler(std::move(handler)); }

const std::set<std::string>& ShardedPubSub::channels() const { return s_->wanted; }

std::optional<NodeAddress> ShardedPubSub::node_of(const std::string& channel) const {
  if (s_->lost.count(channel) != 0) return std::nullopt;
  auto o = s_->owner.find(channel);
  if (o == s_->owner.end()) return std::nullopt;
  return o->second;
}

std::size_t ShardedPubSub::moving() const noexcept { return s_->lost.size(); }
std::uint64_t ShardedPubSub::moves() const noexcept { return s_->moves; }
std::uint64_t ShardedPubSub::dropped() const noexcept { return s_->queue.dropped(); }

ShardedPubSub ClusterClient::sharded_pubsub(PubSubOptions options) { return ShardedPubSub(*this, options); }

}  // namespace fibredis
