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

/// Reads a PerNode-merged reply back as a map, the shape rc.on(target) and execute_on() return:
/// how a cluster pipeline's p.on(target) entry is read.
/// @code
///   auto p = rc.pipeline();
///   p.on(fibredis::Target::Primaries).dbsize();
///   fibredis::PerNode<fibredis::Reply> sizes = fibredis::per_node_replies(std::move(p.execute()[0]));
/// @endcode
/// Throws ResponseError when `merged` is an error reply (a node answered one: merge_replies keeps
/// the first error as the whole entry), ProtocolError when it is not an array of
/// [ "host:port", reply ] pairs.
PerNode<Reply> per_node_replies(Reply&& merged);

}  // namespace fibredis
