// ClusterPubSub: classic pub/sub on a Redis Cluster (rc.pubsub(), rc.pubsub(node)).
//
// @code
//   fibredis::ClusterPubSub ps = rc.pubsub();
//   ps.subscribe("orders");          // connects to the node serving keyslot("orders")
//   rc.publish("orders", "42");      // routed the same way, so both meet on one node
//   auto m = ps.get_message(1s);
// @endcode
//
// The seed's rule (redis-py-cluster, the AWS blog's ClusterPubSub): the connection's node is
// chosen from the first subscribed name's keyslot, its shard's primary, or one of the shard's
// replicas when read_from_replicas is on; rc.publish() routes by the channel's keyslot too. In a
// cluster a classic PUBLISH is broadcast to every node over the cluster bus, so a subscriber on any
// node receives every channel; the routing only keeps one channel's traffic on one node.
// Consequences (docs/PUBSUB.md): PUBLISH returns the subscribers of the node that took the message
// only; a pattern hashes to no node (it is routed by its own text, which means nothing) but
// receives matching messages from the whole cluster anyway; PUBSUB CHANNELS/NUMSUB are per node.
// On reconnect (see PubSub) the node is chosen again from the current slot map, refreshed first,
// so a subscriber whose node failed moves to the shard's new primary (while no node serves the
// slot, between a primary's death and its replica's promotion, it retries the node it was on
// rather than settle on another shard's), and the Gap event says what may have been lost. Everything else is PubSub's (client/pubsub.hpp).
#pragma once

#include <fibredis/client/pubsub.hpp>
#include <fibredis/cluster/node_address.hpp>

#include <optional>
#include <string_view>

namespace fibredis {

class ClusterClient;

class ClusterPubSub : public PubSub {
 public:
  /// Node from the first subscribed name's keyslot (see above). `rc` must outlive this.
  explicit ClusterPubSub(ClusterClient& rc, PubSubOptions options = {});
  /// Always on `node` (rc.pubsub(node)); a reconnect goes back to it.
  ClusterPubSub(ClusterClient& rc, NodeAddress node, PubSubOptions options = {});

  /// PUBLISH routed by the channel's keyslot: the count covers that node's subscribers only.
  long long publish(std::string_view channel, std::string_view message);

  /// The node a subscription starting with `name` goes to, with the current slot map.
  NodeAddress node_for(std::string_view name) const;

 private:
  ClusterClient* rc_;
};

}  // namespace fibredis
