#include <fibredis/cluster/cluster_pubsub.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>

#include <memory>
#include <optional>

namespace fibredis {

namespace {

// The slot's primary (or a replica with read_from_replicas); nothing while no node serves it.
std::optional<NodeAddress> pick(ClusterClient& rc, std::string_view name, std::uint64_t turn) {
  const auto topo = rc.topology();
  const Shard* shard = topo->shard_for_slot(key_slot(name));
  if (shard == nullptr) return std::nullopt;
  if (rc.options().read_from_replicas && !shard->replicas.empty())
    return shard->replicas[turn % shard->replicas.size()];
  return shard->primary;
}

// Refreshes the slot map before every connect but the first: a reconnect usually follows a
// failure of the node, and the map says where its slots went.
PubSub::Chooser chooser(ClusterClient& rc, std::optional<NodeAddress> fixed) {
  struct Turns {
    std::uint64_t calls = 0;
    std::optional<NodeAddress> last;  // the node of the previous connect
  };
  auto turns = std::make_shared<Turns>();
  return [&rc, fixed = std::move(fixed), turns](const std::string& first_name) {
    const bool reconnect = turns->calls++ != 0;
    if (reconnect && !fixed) {
      try {
        rc.refresh_topology();
      } catch (const Error&) {
        // No node answered: connect with the map we have; the reconnect loop tries again.
      }
    }
    NodeAddress node;
    if (fixed) {
      node = *fixed;
    } else if (auto owner = pick(rc, first_name, turns->calls)) {
      node = *owner;
    } else if (reconnect && turns->last) {
      // The slot is unserved for now: its primary died and the replica is not promoted yet (the
      // map marks a failed primary's slots uncovered). Try the node it was on again, which
      // fails until a refresh names the new owner; the default node would connect at once and
      // keep the subscriber off the channel's shard for good.
      node = *turns->last;
    } else {
      node = rc.get_default_node();
    }
    turns->last = node;
    return rc.options().node_options(node);
  };
}

}  // namespace

ClusterPubSub::ClusterPubSub(ClusterClient& rc, PubSubOptions options)
    : PubSub(chooser(rc, std::nullopt), options), rc_(&rc) {}

ClusterPubSub::ClusterPubSub(ClusterClient& rc, NodeAddress node, PubSubOptions options)
    : PubSub(chooser(rc, std::move(node)), options), rc_(&rc) {}

long long ClusterPubSub::publish(std::string_view channel, std::string_view message) {
  return rc_->publish(channel, message);
}

NodeAddress ClusterPubSub::node_for(std::string_view name) const {
  return pick(*rc_, name, 0).value_or(rc_->get_default_node());
}

// ---- ClusterClient's pub/sub members (declared in cluster_client.hpp) --------------------

ClusterPubSub ClusterClient::pubsub(PubSubOptions options) { return ClusterPubSub(*this, options); }

ClusterPubSub ClusterClient::pubsub(const NodeAddress& node, PubSubOptions options) {
  return ClusterPubSub(*this, node, options);
}

}  // namespace fibredis
