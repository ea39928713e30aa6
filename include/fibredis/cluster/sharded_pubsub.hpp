// ShardedPubSub: Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH) across a cluster, following the
// channels' slots through reshards and failovers (rc.sharded_pubsub()).
//
// @code
//   fibredis::ShardedPubSub ps = rc.sharded_pubsub();
//   ps.ssubscribe({"orders:{eu}", "orders:{us}"});   // one connection per owning primary
//   rc.spublish("orders:{eu}", "42");                 // routed to the channel's shard
//   while (auto m = ps.get_message(1s)) {
//     if (m->kind == fibredis::MessageKind::SMessage) handle(m->channel, m->data);
//     if (m->kind == fibredis::MessageKind::Gap) log_loss(m->channels, m->since, m->until);
//   }
// @endcode
//
// A shard channel lives in its slot's shard: SPUBLISH reaches only that shard, so the subscriber
// must sit on it. Channels are grouped by their slot's primary, one PubSubLink (exclusive
// connection, reader fiber, health PING: client/pubsub_link.hpp) per primary, all feeding one
// queue. When a channel's slot changes owner, by any of
//  - the server's own `sunsubscribe` push (Redis 7 sends it when the node loses the slot: the end
//    of a reshard, or a primary demoted by a failover),
//  - a MOVED answer to SSUBSCRIBE (re-subscribing on a node that lost the slot meanwhile: the
//    slot is patched in the client's map from the redirect),
//  - a lost connection (the node died: the map is refreshed until it names the new primary),
//  - a slot map change seen by the keeper fiber (every 200 ms it compares the client's map),
// the channel is re-subscribed on the new owner, and once that owner confirms, the user gets one
// Gap event for it: since = when the loss was noticed, until = the confirmation. Messages
// published in that window may be missing; everything published after `until` arrives.
// The keeper asks the ClusterClient for a refresh (single-flight, rate-limited) when it needs one.
//
// ssubscribe() waits only to connect to owners it has no connection to yet (ConnectionError etc.
// on failure, nothing subscribed then). Patterns do not exist for shard channels (Redis has no
// PSSUBSCRIBE). `rc` must outlive this; it belongs to rc's thread.
#pragma once

#include <fibredis/client/command_options.hpp>
#include <fibredis/client/pubsub_options.hpp>
#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/cluster/node_address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace fibredis {

class ClusterClient;

class ShardedPubSub {
 public:
  explicit ShardedPubSub(ClusterClient& rc, PubSubOptions options = {});
  ~ShardedPubSub();
  ShardedPubSub(ShardedPubSub&&) noexcept;
  ShardedPubSub& operator=(ShardedPubSub&&) noexcept;

  /// SSUBSCRIBE each channel on its slot's primary (connecting to new owners first).
  void ssubscribe(const ArgList& channels);
  /// SUNSUBSCRIBE the channels, or all of them when called with none.
  void sunsubscribe(const ArgList& channels = {});
  /// SPUBLISH through the cluster client (routed by the channel's slot).
  long long spublish(std::string_view channel, std::string_view message);

  /// The next message or event, waiting at most `timeout`; parks this fiber only.
  std::optional<Message> get_message(std::chrono::milliseconds timeout);
  /// See PubSub::set_handler.
  void set_handler(std::function<void(Message&&)> handler);

  /// The channels subscribed (whatever their state).
  const std::set<std::string>& channels() const;
  /// Where `channel` is subscribed now (nullopt: not subscribed, or being moved).
  std::optional<NodeAddress> node_of(const std::string& channel) const;
  /// Channels waiting to be confirmed on a new owner (a Gap event follows for each).
  std::size_t moving() const noexcept;
  /// Channel moves so far (each ends in a Gap event).
  std::uint64_t moves() const noexcept;
  std::uint64_t dropped() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace fibredis
