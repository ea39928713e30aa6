// PubSubOptions: how a subscription connection behaves, and what kinds of names it subscribes.
//
// Shared by PubSub (client/pubsub.hpp), ClusterPubSub, ShardedPubSub and KeyspaceEvents; the
// connection behind them is internal (detail/client/pubsub_link.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace fibredis {

/// How a subscription connection behaves (PubSub, ClusterPubSub, ShardedPubSub, KeyspaceEvents).
struct PubSubOptions {
  /// Messages queued for get_message() before the oldest are dropped (detail/client/message_queue.hpp: the oldest go first, and an Overflow event says how many).
  std::size_t max_queued = 10000;
  /// PING a subscribed connection that read nothing for this long (zero: never; TCP keepalive
  /// still runs).
  std::chrono::milliseconds health_check_interval{1000};
  /// A health PING unanswered for this long: the connection is dead, reconnect.
  std::chrono::milliseconds ping_timeout{2000};
  /// Waits between reconnect attempts: doubling from the first to the last value.
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{1000};
};

/// What a link subscribes: classic channels, patterns, shard channels.
enum class SubscriptionKind : std::uint8_t { Channel, Pattern, Shard };

}  // namespace fibredis
