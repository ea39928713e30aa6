#include <fibredis/cluster/cluster_options.hpp>

namespace fibredis {

ClusterOptions ClusterOptions::from_url(std::string_view url) {
  const Options single = Options::from_url(url);
  ClusterOptions o;
  o.startup_nodes.push_back(NodeAddress{single.host, single.port});
  o.username = single.username;
  o.password = single.password;
  return o;
}

Options ClusterOptions::node_options(const NodeAddress& address) const {
  Options o;
  o.host = address.host;
  o.port = address.port;
  o.username = username;
  o.password = password;
  o.client_name = client_name;
  // READONLY on every connection when replica reads are on: harmless on a primary, and a node's
  // role changes with failovers while its connections live on.
  o.readonly = read_from_replicas;
  o.connect_timeout = connect_timeout;
  o.command_timeout = command_timeout;
  o.pool_timeout = pool_timeout;
  o.max_connections = max_connections_per_node;
  o.max_idle = max_idle_per_node;
  o.idle_timeout = idle_timeout;
  o.max_in_flight = max_in_flight;
  o.health_check_interval = health_check_interval;
  o.max_reply_bytes = max_reply_bytes;
  o.socket = socket;
  return o;
}

}  // namespace fibredis
