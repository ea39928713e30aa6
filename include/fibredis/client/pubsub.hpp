// PubSub: SUBSCRIBE / PSUBSCRIBE on one server, messages handed to the user's fibers.
//
// @code
//   fibredis::Client c({.port = 6379});
//   fibredis::PubSub ps = c.pubsub();
//   ps.subscribe({"news", "alerts"});             // confirmations arrive as messages
//   ps.psubscribe("user.*");
//   while (auto m = ps.get_message(1s)) {         // parks this fiber only, at most 1 s
//     if (m->is_data()) std::cout << m->channel << ": " << m->data << "\n";
//     if (m->kind == fibredis::MessageKind::Gap) std::cout << "lost a window: reconnected\n";
//   }
// @endcode
//
// One exclusive connection per PubSub (opened at the first subscribe, never taken from the pool:
// a subscribed connection can carry nothing else), one reader fiber, one bounded queue
// (client/message_queue.hpp: when full the oldest message is dropped and an Overflow event says
// how many). A dropped connection (server restart, CLIENT KILL, network) is reopened and every
// channel and pattern re-subscribed; the user then gets one Gap event with the loss window
// (since = when the loss was noticed, until = when the server confirmed the re-subscription):
// messages published in it are lost, as for every Redis pub/sub client, and this one says so.
// A silent dead peer is found by a PING every health_check_interval (PubSubOptions).
//
// subscribe()/unsubscribe() write their command and return without waiting for its confirmation;
// only the first subscribe waits, for connecting (ConnectionError, TimeoutError,
// AuthenticationError on failure). get_message() waits on the queue only. Destroying the PubSub
// closes the connection and stops its fibers. A PubSub belongs to the thread (Runtime) that made it.
#pragma once

#include <fibredis/client/command_options.hpp>
#include <fibredis/client/pubsub_options.hpp>
#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/conn/options.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis {

class PubSub {
 public:
  /// Subscriptions on the server `node` describes (Client::pubsub() passes the client's options).
  explicit PubSub(Options node, PubSubOptions options = {});
  /// For ClusterPubSub: the endpoint is asked for (first subscribed name) at every (re)connect.
  using Chooser = std::function<Options(const std::string& first_name)>;
  PubSub(Chooser chooser, PubSubOptions options);
  virtual ~PubSub();
  PubSub(PubSub&&) noexcept;
  PubSub& operator=(PubSub&&) noexcept;
  PubSub(const PubSub&) = delete;
  PubSub& operator=(const PubSub&) = delete;

  /// SUBSCRIBE: connects first if needed (the only wait: connect + handshake, connect_timeout).
  void subscribe(const ArgList& channels);
  /// UNSUBSCRIBE the channels, or every channel when called with none.
  void unsubscribe(const ArgList& channels = {});
  /// PSUBSCRIBE glob-style patterns ("news.*", "user.[0-9]*").
  void psubscribe(const ArgList& patterns);
  void punsubscribe(const ArgList& patterns = {});
  /// PING on the subscribed connection; a Pong message carrying `arg` answers it. Throws
  /// UsageError before the first subscribe (there is no connection yet).
  void ping(std::string_view arg = {});

  /// The next message or event, waiting at most `timeout` (zero: only what is queued). Parks
  /// this fiber only; std::nullopt when nothing came. Never throws.
  std::optional<Message> get_message(std::chrono::milliseconds timeout);
  /// Messages go to `handler` from the reader fiber instead of the queue (it must not suspend
  /// for long: the connection is not read meanwhile). An empty function returns to the queue.
  void set_handler(std::function<void(Message&&)> handler);

  const std::set<std::string>& channels() const;
  const std::set<std::string>& patterns() const;
  /// Subscribed to anything.
  bool subscribed() const noexcept;
  /// "host:port" of the connection (empty before the first subscribe).
  std::string address() const;
  /// Connections lost and re-subscribed so far.
  std::uint64_t reconnects() const noexcept;
  /// Messages dropped because the consumer fell behind.
  std::uint64_t dropped() const noexcept;
  /// Closes the connection now (the destructor does it too); later calls start over.
  void close();

 protected:
  void add(SubscriptionKind kind, const ArgList& names);
  void remove(SubscriptionKind kind, const ArgList& names);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace fibredis
