// Watch (client/watch.hpp): WATCH/MULTI/EXEC on one pooled exclusive connection of a Client.
#include <fibredis/client/watch.hpp>

#include <fibredis/client/client.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

#include <memory>
#include <utility>

namespace fibredis {

struct Watch::Lease {
  ConnectionPool::Lease lease;
};

Watch Client::watch(ArgList keys) {
  const Deadline deadline = deadline_after(options().command_timeout);
  ConnectionPool::Lease lease;
  if (auto ec = node_->pool().acquire(deadline, lease)) fail(ec, "WATCH");
  Command cmd{"WATCH"};
  cmd.args(keys);
  Reply reply;
  if (auto ec = lease->roundtrip(&cmd, 1, &reply, deadline)) {
    lease->mark_broken();
    fail(ec, "WATCH");
  }
  reply.value();
  return Watch(*this, std::make_unique<Watch::Lease>(std::move(lease)));
}

Watch::Watch(Client& client, std::unique_ptr<Lease> lease) noexcept : client_(&client), lease_(std::move(lease)) {}
Watch::Watch(Watch&&) noexcept = default;

Pipeline Watch::multi() { return Pipeline(*client_, true, &*lease_->lease); }

Watch::~Watch() {
  if (!lease_ || !lease_->lease || lease_->lease->broken()) return;
  // Leave the connection as the pool expects it: nothing watched.
  Command cmd{"UNWATCH"};
  Reply reply;
  if (lease_->lease->roundtrip(&cmd, 1, &reply, deadline_after(client_->options().command_timeout)))
    lease_->lease->mark_broken();
}

Reply Watch::execute(const Command& cmd) {
  // Same rule as Client::execute: the pooled connection may carry another lease's writes.
  if (counts_own_writes(cmd)) refuse_lone_wait(cmd);
  Reply reply;
  const Deadline deadline = call_deadline(client_->options().command_timeout, &cmd, 1);
  if (auto ec = lease_->lease->roundtrip(&cmd, 1, &reply, deadline)) {
    lease_->lease->mark_broken();
    client_->fail(ec, cmd.name());
  }
  return reply;
}

void Watch::unwatch() { execute(Command{"UNWATCH"}).value(); }

}  // namespace fibredis
