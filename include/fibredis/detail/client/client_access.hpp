// The internals of a Client, for tests, in-tree tools and library code only (not installed): the
// node's connections, to watch the shared connection (connects, in flight) or the pool of
// exclusive ones (open, idle, created). The public surface keeps to Client::stats().
#pragma once

#include <fibredis/client/client.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/conn/shared_connection.hpp>

namespace fibredis::detail {

struct ClientAccess {
  static NodeConnections& node(Client& c) noexcept { return *c.node_; }
};

inline NodeConnections& node_connections(Client& c) noexcept { return ClientAccess::node(c); }
inline SharedConnection& shared_connection(Client& c) noexcept { return ClientAccess::node(c).shared(); }
inline ConnectionPool& connection_pool(Client& c) noexcept { return ClientAccess::node(c).pool(); }

}  // namespace fibredis::detail
