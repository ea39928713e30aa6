// KeyspaceEvents: keyspace notifications from every primary of a cluster, following the topology
// (rc.keyspace_events(pattern)).
//
// @code
//   auto ev = rc.keyspace_events("__keyspace@0__:user:*", {.configure = "KA"});
//   while (auto m = ev.get_message(1s))
//     if (m->kind == fibredis::MessageKind::PMessage)
//       std::cout << m->channel << " " << m->data << "\n";   // "__keyspace@0__:user:7 set"
// @endcode
//
// Redis sends a key's notification only from the node that holds the key (notifications are not
// broadcast over the cluster bus), so a cluster-wide listener needs a subscription on every
// primary. KeyspaceEvents PSUBSCRIBEs `pattern` on each primary of the slot map (one PubSubLink
// each: client/pubsub_link.hpp), and a keeper fiber follows the map: a primary that appears later
// (a failover promoting a replica, a node added and given slots) gets a subscription, and the
// user a Gap event for it (since = the last map that did not have it, until = its confirmation:
// writes on that node in between were not seen); a node that is no longer a primary is dropped
// (a replica replays its primary's writes and would repeat their events). A lost connection is
// re-subscribed with a Gap event, as in PubSub. Lettuce documents that it does not do this.
//
// The servers send nothing unless notify-keyspace-events is set on them. Either the operator sets
// it (redis.conf, CONFIG SET on every node), or KeyspaceOptions::configure names the flags and
// KeyspaceEvents runs CONFIG SET notify-keyspace-events on each primary before subscribing to it,
// new primaries included (a failed CONFIG SET arrives as an Error message; the subscription is
// made anyway). CONFIG SET is not persisted to redis.conf and changes the server for every client.
//
// The constructor connects to every current primary (ConnectionError etc. if one cannot be
// reached); each link's PSUBSCRIBE confirmation arrives as a message, or see subscribed().
#pragma once

#include <fibredis/client/pubsub_options.hpp>
#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/cluster/node_address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fibredis {

class ClusterClient;

struct KeyspaceOptions {
  /// Flags for CONFIG SET notify-keyspace-events on each primary ("KEA", "Kx"...); empty: leave
  /// the servers' setting alone.
  std::string configure{};
  PubSubOptions pubsub{};
};

class KeyspaceEvents {
 public:
  KeyspaceEvents(ClusterClient& rc, std::string pattern, KeyspaceOptions options = {});
  ~KeyspaceEvents();
  KeyspaceEvents(KeyspaceEvents&&) noexcept;
  KeyspaceEvents& operator=(KeyspaceEvents&&) noexcept;

  /// The next event (PMessage: channel "__keyspace@0__:KEY", data the event name; or the
  /// confirmations, Gap, Error, Overflow), waiting at most `timeout`; parks this fiber only.
  std::optional<Message> get_message(std::chrono::milliseconds timeout);
  void set_handler(std::function<void(Message&&)> handler);

  /// The primaries subscribed to now.
  std::vector<NodeAddress> nodes() const;
  /// Every primary of the current map has confirmed its PSUBSCRIBE.
  bool subscribed() const noexcept;
  const std::string& pattern() const noexcept;
  std::uint64_t dropped() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace fibredis
