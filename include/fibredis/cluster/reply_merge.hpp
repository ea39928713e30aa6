// Merging the replies of a fan-out command into one (redis-py's result callbacks), pure logic.
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/resp/reply.hpp>

#include <utility>
#include <vector>

namespace fibredis {

using NodeReplies = std::vector<std::pair<NodeAddress, Reply>>;

/// Sum: integers added (DBSIZE). Concat: arrays joined (KEYS). AllTrue: arrays of 0/1 AND-ed
/// element-wise (SCRIPT EXISTS). AllOk / First: the first reply (all must agree, FLUSHALL, SCRIPT
/// LOAD). PerNode: an array of [ "host:port", reply ] pairs. An error reply from any node is
/// returned as the result (the first one), so the caller's conversion throws it.
Reply merge_replies(MergePolicy policy, NodeReplies&& replies);

}  // namespace fibredis
