// Client: a single Redis server, used from many fibers at once.
//
// Ordinary commands from all fibers share one multiplexed connection (pipelined automatically).
// Commands the server may hold (BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...) each take an
// exclusive connection from the pool, so a thousand parked BRPOPs never stall a GET. WAIT and
// WAITAOF only run at the end of a pipeline (client/wait_batch.hpp); async() gives futures
// (include <fibredis/client/async.hpp> to use them).
//
// @code
//   fibredis::Client c({.host = "127.0.0.1", .port = 6379});   // or Client("redis://:pw@host:6379/0")
//   c.set("k", "v");
//   std::optional<std::string> v = c.get("k");
//   auto item = c.brpop({"jobs"}, 5s);                         // parks this fiber only
// @endcode
//
// Every call waits on the connection (connecting at first use), then on its reply; the deadline is
// Options::command_timeout (+ the block time for blocking commands; "0 = forever" blocks forever).
// Throws: ConnectionError, TimeoutError, AuthenticationError, ProtocolError, and ResponseError when
// the server answers with an error. A Client belongs to the thread (Runtime) that made it.
#pragma once

#include <fibredis/client/async_commands.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/client/pipeline.hpp>
#include <fibredis/client/pubsub.hpp>
#include <fibredis/conn/client_stats.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

namespace fibredis {

class Watch;
class NodeConnections;  // detail/conn/node_connections.hpp
namespace detail {
struct ClientAccess;  // detail/client/client_access.hpp
}

class Client : public Commands<Client>, public AsyncCommands<Client> {
 public:
  explicit Client(Options options = {});
  explicit Client(std::string_view url);
  /// Waits for the async commands still in flight (client/async.hpp), then closes everything.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends one command and returns its reply; an error reply is returned, not thrown.
  /// WAIT/WAITAOF throw UsageError: their count needs the writes of the same connection, so
  /// they only run at the end of a pipeline (client/wait_batch.hpp).
  Reply execute(const Command& cmd);

  /// The Commands<> hook: run and convert (conversions throw on error replies).
  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    return Parser::parse(execute(cmd));
  }

  /// Commands queued locally, sent in one batch by Pipeline::execute(). With transaction = true
  /// they are wrapped in MULTI/EXEC.
  Pipeline pipeline(bool transaction = false) { return Pipeline(*this, transaction); }

  /// WATCHes keys on an exclusive connection for optimistic locking (see client/watch.hpp).
  Watch watch(ArgList keys);

  /// Subscriptions on their own connection to this server (client/pubsub.hpp); nothing is
  /// opened until the first subscribe.
  PubSub pubsub(PubSubOptions options = {}) const { return PubSub(this->options(), options); }

  /// Lettuce-style manual flushing of the shared connection, for bulk loads.
  void set_auto_flush(bool on);
  void flush();

  const Options& options() const noexcept;
  /// What this client did on the wire (conn/client_stats.hpp).
  ClientStats stats() const noexcept;

  /// Runs a batch (pipelines, transactions): on the shared connection unless a command in it may
  /// block or `exclusive` is set (a batch holding WAIT), then on one pooled exclusive connection.
  /// Throws transport errors.
  void run_batch(const Command* cmds, std::size_t n, Reply* out, bool exclusive = false);

 private:
  friend class Pipeline;
  friend class Watch;
  friend struct detail::ClientAccess;  // tests and tools reach the connections through it
  [[noreturn]] void fail(std::error_code ec, std::string_view what) const;

  ClientStats stats_;  // before node_: its connections count into it
  std::unique_ptr<NodeConnections> node_;  // behind a pointer: its header is internal
};

}  // namespace fibredis

#include <fibredis/client/watch.hpp>
