// FanOut: one command to many nodes at once, or one command split per slot, and the replies
// merged (cluster/reply_merge.hpp). execute_on(target), the keyless fan-outs (DBSIZE, KEYS...),
// DEL/EXISTS/UNLINK/TOUCH over several slots, mget_nonatomic and mset_nonatomic all run here.
// Internal: not installed.
#pragma once

#include <fibredis/client/command_options.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/reply_merge.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fibredis {

class ClusterClient;

class FanOut {
 public:
  /// Works through `client`'s nodes and retry loop; `client` outlives it (it owns it).
  explicit FanOut(ClusterClient& client) : c_(client) {}

  /// `cmd` on every node of `nodes` at once (one fiber per node; the shared connections batch
  /// them), each node's reply in the order of `nodes`. No retry: a node that fails throws its
  /// transport error once all have answered.
  NodeReplies execute_on_nodes(const std::vector<NodeAddress>& nodes, const Command& cmd, Deadline deadline);
  /// `cmd` on `node` alone, in the calling fiber; the same rules (NodeClient::execute).
  Reply execute_on_node(const NodeAddress& node, const Command& cmd, Deadline deadline);
  /// A multi-key command whose keys span slots, as one command per slot (each retried on its own,
  /// all at once), the replies merged by `merge`.
  Reply execute_split(const Command& cmd, MergePolicy merge, Deadline deadline);
  /// MGET per slot, all slots at once; values in the order of `keys`.
  std::vector<std::optional<std::string>> mget(const ArgList& keys, Deadline deadline);
  /// MSET per slot, all slots at once.
  void mset(const PairList<std::string_view>& kvs, Deadline deadline);

 private:
  ClusterClient& c_;
};

}  // namespace fibredis
