// NodeClient: the typed commands on one node of a cluster (redis-py's get_redis_connection), on
// the ClusterClient's own connections to it.
//
// @code
//   fibredis::NodeClient n = rc.get_node_client(rc.get_primaries().front());
//   long long keys = n.dbsize();                   // that node's count, not the cluster's
//   std::string role = n.command({"ROLE"}).elements()[0].as_string();
// @endcode
//
// Every command goes to that node and nowhere else: no slot routing, no redirect following, no
// retry. A key the node does not serve answers MOVED, which the typed commands throw as
// ResponseError ("MOVED 1234 127.0.0.1:7001") and execute() returns as an error reply. Commands
// wait on the node's shared connection (a pooled exclusive one for blocking commands) within
// command_timeout (+ block time); transport failures throw ConnectionError / TimeoutError.
// Commands a ClusterClient refuses (SELECT n, AUTH, MULTI/EXEC/WATCH, CLIENT REPLY, WAIT alone...)
// are refused here too, with the same UsageError: they would change connections the client shares.
// A NodeClient must not outlive its ClusterClient; it is cheap to copy.
#pragma once

#include <fibredis/client/commands.hpp>
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

namespace fibredis {

class ClusterClient;

class NodeClient : public Commands<NodeClient> {
 public:
  /// Sends `cmd` to this node and returns its reply; error replies (MOVED included) are returned.
  Reply execute(const Command& cmd);

  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    return Parser::parse(execute(cmd));
  }

  const NodeAddress& address() const noexcept { return node_; }

 private:
  friend class ClusterClient;
  NodeClient(ClusterClient& client, NodeAddress node) : client_(&client), node_(std::move(node)) {}

  ClusterClient* client_;
  NodeAddress node_;
};

}  // namespace fibredis
