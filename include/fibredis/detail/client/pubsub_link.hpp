// PubSubLink: one subscribed connection to one server, kept alive and kept subscribed.
//
// The building block of PubSub (one node), ClusterPubSub, ShardedPubSub (one link per shard) and
// KeyspaceEvents (one link per primary). It owns an exclusive Connection (never pooled: a
// subscribed connection can carry nothing else) and two fibers:
//  - the reader: reads every push, turns it into a Message and hands it to the sink; when the
//    connection fails it reconnects (back-off between attempts, endpoint() asked again each time,
//    so a cluster caller can move to another node), re-sends every subscription in one write
//    followed by a marker PING, and when the marker's pong comes back emits one Gap event with the
//    loss window [connection lost, re-subscribed]. Confirmations of that re-subscription are not
//    passed on: the Gap stands for them.
//  - the keeper: while subscribed and silent for health_check_interval it sends PING; a PING not
//    answered within ping_timeout means a dead peer (no RST: a stopped or partitioned host), so it
//    shuts the socket down and the reader reconnects.
// Commands are written from the caller's fiber, one writer at a time (later callers append to
// the pending bytes and return), so SUBSCRIBE never waits for its confirmation: that arrives as a
// message, as in redis-py. While disconnected, subscribe/unsubscribe only change the set the
// reconnect will send.
//
// Shard channels are sent one SSUBSCRIBE per channel: a multi-channel SSUBSCRIBE must name one
// slot, and this layer does not know slots.
#pragma once

#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/client/pubsub_options.hpp>
#include <fibredis/detail/conn/connection.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/runtime/deadline.hpp>
#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fibredis {

class PubSubLink {
 public:
  /// Where to connect; asked at every (re)connect.
  using Endpoint = std::function<Options()>;
  /// Every message read (and the link's own Gap events); runs in the reader fiber, must not suspend.
  using Sink = std::function<void(PubSubLink&, Message&&)>;
  /// Told when the connection is lost (in the reader fiber, must not suspend).
  using OnDown = std::function<void(PubSubLink&)>;

  PubSubLink(Endpoint endpoint, PubSubOptions options, Sink sink, OnDown on_down = {});
  /// Stops both fibers and closes the connection (waits for them: a few scheduler rounds).
  ~PubSubLink();
  PubSubLink(const PubSubLink&) = delete;
  PubSubLink& operator=(const PubSubLink&) = delete;

  /// Connects now, in the caller's fiber (within the endpoint's connect_timeout), then starts the
  /// fibers. Errors: the connection's (errc::auth_failed: error_text() has the server's words).
  /// After an error nothing runs; call again or launch(). Does nothing if already started.
  std::error_code start();
  /// Starts the fibers without waiting; the reader connects (and retries) by itself.
  void launch();

  /// Adds names to the set and sends the command if connected. Never waits for the confirmation.
  void subscribe(SubscriptionKind kind, const std::vector<std::string>& names);
  /// Removes names (all of that kind when empty) and sends the command if connected.
  void unsubscribe(SubscriptionKind kind, const std::vector<std::string>& names);
  /// Removes names from the set without telling the server (the server dropped them already, or
  /// the connection is about to be closed).
  void forget(SubscriptionKind kind, const std::vector<std::string>& names);
  /// PING while subscribed: the answer arrives as a Pong message carrying `arg`.
  void ping(std::string_view arg);

  const std::set<std::string>& names(SubscriptionKind kind) const noexcept;
  /// Nothing subscribed of any kind.
  bool empty() const noexcept;
  bool connected() const noexcept { return connected_; }
  /// "host:port" of the current (or last) connection.
  const std::string& address() const noexcept { return address_; }
  /// When the connection was last lost (epoch if never).
  Clock::time_point lost_at() const noexcept { return lost_at_; }
  /// Connections lost and re-subscribed so far.
  std::uint64_t reconnects() const noexcept { return reconnects_; }
  const std::string& error_text() const noexcept { return error_text_; }

 private:
  void reader_loop();
  void keeper_loop();
  /// Asks the endpoint, connects within its connect_timeout.
  std::error_code connect_once();
  /// Appends the encoded command and writes, unless another fiber is writing (it will).
  void send(std::string bytes);
  void drain_writes();
  void handle(Reply&& reply);
  std::string resubscribe_bytes() const;
  std::set<std::string>& set_of(SubscriptionKind kind) noexcept;
  /// Sleeps up to `d` unless stopping; false if stopping.
  bool nap(std::chrono::milliseconds d, Parker*& slot);

  Endpoint endpoint_;
  PubSubOptions options_;
  Sink sink_;
  OnDown on_down_;
  Options conn_options_;
  std::shared_ptr<Connection> conn_;  // shared: a writer keeps the old one alive across a reconnect
  std::set<std::string> channels_, patterns_, shards_;
  std::string address_;
  std::string error_text_;
  std::string pending_;
  bool writing_ = false;
  bool connected_ = false;
  bool resubscribing_ = false;
  bool started_ = false;
  bool stopping_ = false;
  std::string marker_;  // argument of the re-subscription marker PING
  std::uint64_t generation_ = 0;
  std::uint64_t reconnects_ = 0;
  Clock::time_point lost_at_{};
  Clock::time_point last_read_{};
  Clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;
  Parker* reader_nap_ = nullptr;
  Parker* keeper_nap_ = nullptr;
  Fiber reader_;
  Fiber keeper_;
};

}  // namespace fibredis
