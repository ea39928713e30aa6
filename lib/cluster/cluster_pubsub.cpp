#include <fibredis/cluster/cluster_pubsub.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>

#include <memory>

namespace fibredis {

namespace {

NodeAddress pick(ClusterClient& rc, std::string_view name, std::uint64_t turn) {
  const auto topo = rc.topology();
  const Shard* shard = topo->shard_for_slot(key_slot(name));
  if (shard == nullptr) return rc.get_default_node();
  if (rc.options().read_from_replicas && !shard->replicas.empty())
    return shard->replicas[turn % shard->replicas.size()];
  return shard->primary;
}

// Refreshes the slot map before every connect but the first: a reconnect usually follows a
// failure of the node, and the map says where its slots went.
PubSub::Chooser chooser(ClusterClient& rc, std::optional<NodeAddress> fixed) {
  auto calls = std::make_shared<std::uint64_t>(0);
  return [&rc, fixed = std::move(fixed), calls](const std::string& first_name) {
    if ((*calls)++ != 0 && !fixed) {
      try {
        rc.refresh_topology();
      } catch (const Error&) {
        // No node answered: connect with the map we have; the reconnect loop tries again.
      }
    }
    const NodeAddress node = fixed ? *fixed : pick(rc, first_name, *calls);
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

NodeAddress ClusterPubSub::node_for(std::string_view name) const { return pick(*rc_, name, 0); }

// ---- ClusterClient's pub/sub members (declared in cluster_client.hpp) --------------------

ClusterPubSub ClusterClient::pubsub(PubSubOptions options) { return ClusterPubSub(*this, options); }

ClusterPubSub ClusterClient::pubsub(const NodeAddress& node, PubSubOptions options) {
  return ClusterPubSub(*this, node, options);
}

}  // namespace fibredis
