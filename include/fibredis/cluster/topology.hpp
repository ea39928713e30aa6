// Topology: an immutable snapshot of a Redis Cluster — which shard serves each of the 16384 slots,
// and each shard's primary and readable replicas.
//
// Built from one node's CLUSTER SHARDS reply (Redis 7) or CLUSTER SLOTS reply (older servers).
// A snapshot never changes: the holder that owns the current one (cluster/, written against the
// fiber runtime) swaps in a new snapshot after a refresh, and a MOVED redirect is applied by making
// a modified copy (with_slot_moved). Copies are cheap: the slot table and the shard list sit behind
// one shared_ptr, so every fiber can keep the snapshot it routed with while a refresh swaps in the
// next one. Lookup is one array index: slot → shard number (2 bytes per slot, 32 KiB per table).
//
// Nothing here touches a socket, a fiber or a clock.
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/slot.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fibredis {

class Reply;

enum class NodeRole : std::uint8_t { Primary, Replica };

/// A node's health as CLUSTER SHARDS reports it ("online", "loading", "fail"/"failed").
/// CLUSTER SLOTS reports none: its nodes are all taken as Online.
enum class NodeHealth : std::uint8_t { Online, Loading, Failed };

/// One node named by the topology reply, whatever its state.
struct NodeInfo {
  NodeAddress address;  ///< after the AddressMap
  std::string id;       ///< the 40-hex node id; empty when the reply did not give it
  NodeRole role = NodeRole::Primary;
  NodeHealth health = NodeHealth::Online;

  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

/// A primary and the replicas that may serve its reads.
struct Shard {
  std::uint32_t index = 0;  ///< position in Topology::shards()
  NodeAddress primary;
  /// Online replicas only (loading or failed ones are left out), sorted, no duplicates.
  std::vector<NodeAddress> replicas;

  friend bool operator==(const Shard&, const Shard&) = default;
};

class Topology {
 public:
  /// An empty snapshot: no shards, every slot uncovered. What a holder starts with.
  Topology();

  /// From a CLUSTER SHARDS reply (Redis 7.0+): an array of shards, each a flat map with "slots"
  /// (start/end pairs) and "nodes" (flat maps with "id", "port"/"tls-port", "ip", "endpoint",
  /// "role", "health", ...; unknown fields are ignored).
  ///
  /// A node is reached at its "endpoint"; an endpoint of "?" or "" (the server's
  /// cluster-preferred-endpoint-type unknown-endpoint, or hostname without a hostname set) means
  /// "the same host you asked", so `origin.host` is used (cluster spec, "Redirection and
  /// resharding"). Without an "endpoint" field, "ip" is used. `map`, when set, is applied to every
  /// address. Replicas that are not "online" are left out of Shard::replicas (a loading replica
  /// answers LOADING). A shard whose primary is failed or missing (between a primary's failure
  /// and its replica's promotion) is left out, so its slots are uncovered until the next refresh.
  /// A primary that is online but owns no slots (just added) is kept as a shard.
  ///
  /// Throws ProtocolError on a malformed reply, including an error reply: a caller that wants to
  /// fall back to CLUSTER SLOTS on "ERR unknown subcommand" checks Reply::is_error() first.
  static Topology from_cluster_shards(const Reply& r, const NodeAddress& origin,
                                      const AddressMap& map = {});

  /// From a CLUSTER SLOTS reply (any server version): [[start, end, [host, port, id, meta...],
  /// [replica host, port, id, meta...] ...] ...]. The server already leaves out failed and loading
  /// replicas. A host that is nil, "" or "?" means `origin.host`; `map` as above. Ranges with the
  /// same primary become one shard. Throws ProtocolError on a malformed reply.
  static Topology from_cluster_slots(const Reply& r, const NodeAddress& origin,
                                     const AddressMap& map = {});

  /// The shard serving `slot`; nullptr when the slot is uncovered or slot >= kSlotCount. The
  /// pointer lives as long as this snapshot (or any copy of it).
  const Shard* shard_for_slot(std::uint16_t slot) const noexcept;
  bool fully_covered() const noexcept;
  std::uint32_t covered_slots() const noexcept;
  /// Uncovered slots as inclusive [first, last] ranges, ascending. Empty when fully covered.
  std::vector<std::pair<std::uint16_t, std::uint16_t>> uncovered_ranges() const;

  /// Shards ordered by their lowest slot; shards without slots last, by primary address.
  /// (with_slot_moved appends new shards at the end.)
  const std::vector<Shard>& shards() const noexcept;
  /// Every node the reply named, with role and health as reported (including failed and
  /// loading ones); one entry per address.
  const std::vector<NodeInfo>& nodes() const noexcept;

  /// Primaries that serve at least one slot, in shard order (a slotless primary holds no keys).
  std::vector<NodeAddress> primaries() const;
  std::vector<NodeAddress> replicas() const;   ///< online replicas, in shard order
  std::vector<NodeAddress> all_nodes() const;  ///< per shard: primary, then its replicas
  /// Primary or (online) Replica; std::nullopt for an address that serves nothing here.
  std::optional<NodeRole> role_of(const NodeAddress& addr) const;

  /// A copy in which `slot` is served by the shard whose primary is `addr`; when no shard has
  /// that primary a new one-node shard is appended (and `addr`, if it was listed as a replica, is
  /// taken out of that replica list: a MOVED to a replica means it was promoted). `addr` must be
  /// already mapped (the AddressMap is not applied). This is how a MOVED is applied without a
  /// full refresh; the holder still refreshes lazily. slot >= kSlotCount returns a plain copy.
  Topology with_slot_moved(std::uint16_t slot, const NodeAddress& addr) const;

  /// Same slot → primary assignment and same replica set per primary, whatever the shard order
  /// or node health: tells whether a refresh changed anything routing depends on.
  bool same_layout(const Topology& other) const;

 private:
  struct Data;
  explicit Topology(std::shared_ptr<const Data> d) noexcept;
  friend class TopologyBuilder;

  std::shared_ptr<const Data> data_;
};

/// One node's answer to a slot-map query, for choosing among several (TopologyHolder asks a few
/// nodes at once during a failover, when their views may differ for a moment).
struct TopologyView {
  /// The node's cluster_current_epoch (CLUSTER INFO): every failover raises it, and a node that
  /// has seen a promotion has an epoch at least that of the election.
  std::uint64_t current_epoch = 0;
  const Topology* topology = nullptr;
};

/// Index of the newest view: the highest current_epoch; among equals, the layout most of all
/// the views share (same_layout); then the first. `views` must not be empty.
std::size_t newest_view(const std::vector<TopologyView>& views);

}  // namespace fibredis
