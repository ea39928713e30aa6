#include "fibredis/cluster/topology.hpp"

#include "fibredis/errors.hpp"
#include "fibredis/resp/reply.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <string_view>
#include <unordered_map>

namespace fibredis {

namespace {

constexpr std::uint16_t kNoShard = 0xFFFF;

[[noreturn]] void malformed(std::string_view source, std::string_view what) {
  std::string msg(source);
  msg.append(": malformed reply: ");
  msg.append(what);
  throw ProtocolError(msg, make_error_code(errc::protocol_error));
}

// The value after `key` in a RESP2 flat map ([k1, v1, k2, v2, ...]); nullptr when absent.
const Reply* field(const Reply& map, std::string_view key) noexcept {
  const auto& e = map.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (e[i].is_string() && e[i].str() == key) return &e[i + 1];
  }
  return nullptr;
}

// An Integer, or a String of decimal digits (some proxies stringify numbers).
std::optional<long long> number(const Reply& r) noexcept {
  if (r.is_integer()) return r.integer();
  if (!r.is_string() || r.str().empty()) return std::nullopt;
  long long v = 0;
  const char* end = r.str().data() + r.str().size();
  auto [ptr, ec] = std::from_chars(r.str().data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

bool is_text(const Reply& r) noexcept { return r.is_string() || r.is_status(); }

// "?" and "" both mean the node does not know how it is reached: use the host we asked (the
// server's cluster-preferred-endpoint-type unknown-endpoint; 7.0 sends "" in SHARDS, nil in
// SLOTS, and "?" when the preferred type is hostname but none is set).
bool unknown_endpoint(std::string_view host) noexcept { return host.empty() || host == "?"; }

}  // namespace

struct Topology::Data {
  std::array<std::uint16_t, kSlotCount> slot_shard;  // shard index per slot, kNoShard = uncovered
  std::vector<Shard> shards;
  std::vector<NodeInfo> nodes;
  std::vector<std::uint32_t> shard_slots;  // slots owned, per shard index
  std::uint32_t covered = 0;

  Data() { slot_shard.fill(kNoShard); }
};

// Collects nodes, shards and slot ranges from either reply form, then canonicalises.
class TopologyBuilder {
 public:
  TopologyBuilder(std::string_view source, const NodeAddress& origin, const AddressMap& map)
      : source_(source), origin_(origin), map_(map), data_(std::make_shared<Topology::Data>()) {}

  [[noreturn]] void fail(std::string_view what) const { malformed(source_, what); }

  NodeAddress address(std::string_view host, long long port) const {
    if (port <= 0 || port > 65535) fail("node port out of range");
    NodeAddress a{unknown_endpoint(host) ? origin_.host : std::string(host),
                  static_cast<std::uint16_t>(port)};
    return map_ ? map_(a) : a;
  }

  std::pair<std::uint16_t, std::uint16_t> range(const Reply& first, const Reply& last) const {
    const auto a = number(first);
    const auto b = number(last);
    if (!a || !b || *a < 0 || *b < *a || *b >= kSlotCount) fail("bad slot range");
    return {static_cast<std::uint16_t>(*a), static_cast<std::uint16_t>(*b)};
  }

  void add_node(NodeInfo n) {
    for (const NodeInfo& known : data_->nodes) {
      if (known.address == n.address) return;
    }
    data_->nodes.push_back(std::move(n));
  }

  std::uint16_t shard_of(const NodeAddress& primary) {
    auto [it, inserted] = by_primary_.try_emplace(primary, data_->shards.size());
    if (inserted) {
      if (data_->shards.size() >= kNoShard) fail("too many shards");
      data_->shards.push_back(Shard{static_cast<std::uint32_t>(data_->shards.size()), primary, {}});
    }
    return static_cast<std::uint16_t>(it->second);
  }

  void add_replica(std::uint16_t shard, NodeAddress replica) {
    data_->shards[shard].replicas.push_back(std::move(replica));
  }

  void assign(std::pair<std::uint16_t, std::uint16_t> r, std::uint16_t shard) {
    // Overlapping ranges cannot come from a consistent node; the later one wins.
    std::fill(data_->slot_shard.begin() + r.first, data_->slot_shard.begin() + r.second + 1, shard);
  }

  Topology finish() {
    auto& d = *data_;
    // Canonical order, so that the same cluster gives the same snapshot whichever node answered:
    // shards by lowest slot, slotless ones after them by primary address; replicas sorted.
    std::vector<std::uint32_t> lowest(d.shards.size(), kSlotCount);
    for (std::uint32_t s = kSlotCount; s-- > 0;) {
      if (d.slot_shard[s] != kNoShard) lowest[d.slot_shard[s]] = s;
    }
    std::vector<std::uint16_t> order(d.shards.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint16_t>(i);
    std::sort(order.begin(), order.end(), [&](std::uint16_t a, std::uint16_t b) {
      if (lowest[a] != lowest[b]) return lowest[a] < lowest[b];
      return d.shards[a].primary < d.shards[b].primary;
    });
    std::vector<std::uint16_t> new_index(d.shards.size());
    std::vector<Shard> sorted;
    sorted.reserve(d.shards.size());
    for (std::uint16_t old : order) {
      new_index[old] = static_cast<std::uint16_t>(sorted.size());
      Shard s = std::move(d.shards[old]);
      s.index = static_cast<std::uint32_t>(sorted.size());
      std::sort(s.replicas.begin(), s.replicas.end());
      s.replicas.erase(std::unique(s.replicas.begin(), s.replicas.end()), s.replicas.end());
      // A node both primary and replica in one reply is inconsistent; routing trusts "primary".
      std::erase_if(s.replicas, [&](const NodeAddress& a) { return by_primary_.contains(a); });
      sorted.push_back(std::move(s));
    }
    d.shards = std::move(sorted);
    d.covered = 0;
    d.shard_slots.assign(d.shards.size(), 0);
    for (std::uint16_t& s : d.slot_shard) {
      if (s != kNoShard) {
        s = new_index[s];
        ++d.covered;
        ++d.shard_slots[s];
      }
    }
    return Topology(std::move(data_));
  }

 private:
  std::string_view source_;
  const NodeAddress& origin_;
  const AddressMap& map_;
  std::shared_ptr<Topology::Data> data_;
  std::map<NodeAddress, std::size_t> by_primary_;
};

Topology::Topology() {
  // Every default snapshot shares one empty table.
  static const std::shared_ptr<const Data> empty = std::make_shared<const Data>();
  data_ = empty;
}

Topology::Topology(std::shared_ptr<const Data> d) noexcept : data_(std::move(d)) {}

namespace {

NodeInfo shards_node(const TopologyBuilder& b, const Reply& n) {
  if (!n.is_array() || n.elements().size() % 2 != 0) b.fail("node is not a flat map");
  NodeInfo info;

  std::optional<long long> port;
  if (const Reply* p = field(n, "port")) port = number(*p);
  if (!port || *port == 0) {
    // A TLS-only cluster (tls-cluster yes, port 0) lists only its tls-port.
    if (const Reply* p = field(n, "tls-port")) port = number(*p);
  }
  if (!port) b.fail("node without port");

  std::string_view host;
  if (const Reply* ep = field(n, "endpoint")) {
    if (!ep->is_nil() && !is_text(*ep)) b.fail("endpoint is not a string");
    host = ep->str();
  } else if (const Reply* ip = field(n, "ip")) {
    if (!ip->is_nil() && !is_text(*ip)) b.fail("ip is not a string");
    host = ip->str();
  }
  info.address = b.address(host, *port);

  if (const Reply* id = field(n, "id"); id && is_text(*id)) info.id = std::string(id->str());

  const Reply* role = field(n, "role");
  if (!role || !is_text(*role)) b.fail("node without role");
  if (role->str() == "master" || role->str() == "primary") {
    info.role = NodeRole::Primary;
  } else if (role->str() == "replica" || role->str() == "slave") {
    info.role = NodeRole::Replica;
  } else {
    b.fail("unknown node role");
  }

  // Missing health (pre-GA 7.0) is taken as online. A state this code does not know is treated as
  // failed: reads must not go to a node in an unexplained condition.
  info.health = NodeHealth::Online;
  if (const Reply* h = field(n, "health")) {
    if (!is_text(*h)) b.fail("health is not a string");
    const std::string_view v = h->str();
    if (v == "online") {
      info.health = NodeHealth::Online;
    } else if (v == "loading") {
      info.health = NodeHealth::Loading;
    } else {
      info.health = NodeHealth::Failed;  // "fail" (what 7.0 sends), "failed" (what the docs say)
    }
  }
  return info;
}

}  // namespace

Topology Topology::from_cluster_shards(const Reply& r, const NodeAddress& origin,
                                       const AddressMap& map) {
  TopologyBuilder b("CLUSTER SHARDS", origin, map);
  if (!r.is_array()) b.fail("not an array");
  std::vector<std::pair<std::uint16_t, std::uint16_t>> ranges;
  std::vector<NodeAddress> readable;
  for (const Reply& shard : r.elements()) {
    if (!shard.is_array() || shard.elements().size() % 2 != 0) b.fail("shard is not a flat map");
    const Reply* slots = field(shard, "slots");
    const Reply* nodes = field(shard, "nodes");
    if (!slots || !slots->is_array() || slots->elements().size() % 2 != 0)
      b.fail("shard without slot pairs");
    if (!nodes || !nodes->is_array()) b.fail("shard without nodes");

    ranges.clear();
    const auto& se = slots->elements();
    for (std::size_t i = 0; i < se.size(); i += 2) ranges.push_back(b.range(se[i], se[i + 1]));

    std::optional<NodeAddress> primary;
    readable.clear();
    for (const Reply& n : nodes->elements()) {
      NodeInfo info = shards_node(b, n);
      if (info.role == NodeRole::Primary) {
        // A loading primary still owns its slots (callers back off on LOADING); a failed one
        // serves nothing until a replica is promoted.
        if (!primary && info.health != NodeHealth::Failed) primary = info.address;
      } else if (info.health == NodeHealth::Online) {
        readable.push_back(info.address);
      }
      b.add_node(std::move(info));
    }
    if (!primary) continue;  // its slots stay uncovered
    const std::uint16_t idx = b.shard_of(*primary);
    for (NodeAddress& a : readable) b.add_replica(idx, std::move(a));
    for (const auto& range : ranges) b.assign(range, idx);
  }
  return b.finish();
}

namespace {

NodeInfo slots_node(const TopologyBuilder& b, const Reply& n, NodeRole role) {
  // [host, port, id, {hostname/ip metadata}] since 7.0; [host, port, id] since 4.0; [host, port]
  // before that.
  if (!n.is_array() || n.elements().size() < 2) b.fail("node is not [host, port, ...]");
  const auto& e = n.elements();
  if (!e[0].is_nil() && !is_text(e[0])) b.fail("node host is not a string");
  const auto port = number(e[1]);
  if (!port) b.fail("node port is not a number");
  NodeInfo info;
  info.address = b.address(e[0].str(), *port);
  if (e.size() >= 3 && is_text(e[2])) info.id = std::string(e[2].str());
  info.role = role;
  info.health = NodeHealth::Online;
  return info;
}

}  // namespace

Topology Topology::from_cluster_slots(const Reply& r, const NodeAddress& origin,
                                      const AddressMap& map) {
  TopologyBuilder b("CLUSTER SLOTS", origin, map);
  if (!r.is_array()) b.fail("not an array");
  for (const Reply& entry : r.elements()) {
    if (!entry.is_array() || entry.elements().size() < 3) b.fail("entry is not [start, end, node...]");
    const auto& e = entry.elements();
    const auto range = b.range(e[0], e[1]);
    NodeInfo primary = slots_node(b, e[2], NodeRole::Primary);
    const std::uint16_t idx = b.shard_of(primary.address);
    b.add_node(std::move(primary));
    for (std::size_t i = 3; i < e.size(); ++i) {
      NodeInfo replica = slots_node(b, e[i], NodeRole::Replica);
      b.add_replica(idx, replica.address);
      b.add_node(std::move(replica));
    }
    b.assign(range, idx);
  }
  return b.finish();
}

const Shard* Topology::shard_for_slot(std::uint16_t slot) const noexcept {
  if (slot >= kSlotCount) return nullptr;
  const std::uint16_t s = data_->slot_shard[slot];
  return s == kNoShard ? nullptr : &data_->shards[s];
}

bool Topology::fully_covered() const noexcept { return data_->covered == kSlotCount; }

std::uint32_t Topology::covered_slots() const noexcept { return data_->covered; }

std::vector<std::pair<std::uint16_t, std::uint16_t>> Topology::uncovered_ranges() const {
  std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
  const auto& t = data_->slot_shard;
  for (std::uint32_t s = 0; s < kSlotCount; ++s) {
    if (t[s] != kNoShard) continue;
    if (!out.empty() && out.back().second + 1U == s) {
      out.back().second = static_cast<std::uint16_t>(s);
    } else {
      out.emplace_back(static_cast<std::uint16_t>(s), static_cast<std::uint16_t>(s));
    }
  }
  return out;
}

const std::vector<Shard>& Topology::shards() const noexcept { return data_->shards; }

const std::vector<NodeInfo>& Topology::nodes() const noexcept { return data_->nodes; }

std::vector<NodeAddress> Topology::primaries() const {
  std::vector<NodeAddress> out;
  out.reserve(data_->shards.size());
  // A primary serving no slot holds no keys (a new node, or a replica whose role change some node
  // has not gossiped yet, which CLUSTER SHARDS then lists as a slotless primary holding a copy of
  // another shard's keys): keyspace fan-out (DBSIZE, KEYS, FLUSHALL, SCAN) must not count it.
  for (const Shard& s : data_->shards)
    if (data_->shard_slots[s.index] > 0) out.push_back(s.primary);
  return out;
}

std::vector<NodeAddress> Topology::replicas() const {
  std::vector<NodeAddress> out;
  for (const Shard& s : data_->shards) out.insert(out.end(), s.replicas.begin(), s.replicas.end());
  return out;
}

std::vector<NodeAddress> Topology::all_nodes() const {
  std::vector<NodeAddress> out;
  for (const Shard& s : data_->shards) {
    out.push_back(s.primary);
    out.insert(out.end(), s.replicas.begin(), s.replicas.end());
  }
  return out;
}

std::optional<NodeRole> Topology::role_of(const NodeAddress& addr) const {
  for (const Shard& s : data_->shards) {
    if (s.primary == addr) return NodeRole::Primary;
  }
  for (const Shard& s : data_->shards) {
    if (std::binary_search(s.replicas.begin(), s.replicas.end(), addr)) return NodeRole::Replica;
  }
  return std::nullopt;
}

Topology Topology::with_slot_moved(std::uint16_t slot, const NodeAddress& addr) const {
  if (slot >= kSlotCount) return *this;
  const Shard* current = shard_for_slot(slot);
  if (current && current->primary == addr) return *this;  // already there: share the table

  auto d = std::make_shared<Data>(*data_);
  auto it = std::find_if(d->shards.begin(), d->shards.end(),
                         [&](const Shard& s) { return s.primary == addr; });
  std::size_t idx = static_cast<std::size_t>(it - d->shards.begin());
  if (it == d->shards.end()) {
    if (d->shards.size() >= kNoShard) return *this;  // cannot happen with a real cluster
    // A MOVED to a node we know as a replica: it was promoted. It serves writes now, so it
    // must not stay in a replica list, where role_of() would call it a replica.
    for (Shard& s : d->shards) std::erase(s.replicas, addr);
    d->shards.push_back(Shard{static_cast<std::uint32_t>(idx), addr, {}});
    auto node = std::find_if(d->nodes.begin(), d->nodes.end(),
                             [&](const NodeInfo& n) { return n.address == addr; });
    if (node == d->nodes.end()) {
      d->nodes.push_back(NodeInfo{addr, {}, NodeRole::Primary, NodeHealth::Online});
    } else {
      node->role = NodeRole::Primary;
      node->health = NodeHealth::Online;
    }
  }
  d->shard_slots.resize(d->shards.size(), 0);
  if (d->slot_shard[slot] == kNoShard) {
    ++d->covered;
  } else {
    --d->shard_slots[d->slot_shard[slot]];
  }
  d->slot_shard[slot] = static_cast<std::uint16_t>(idx);
  ++d->shard_slots[idx];
  return Topology(std::move(d));
}

bool Topology::same_layout(const Topology& other) const {
  if (data_ == other.data_) return true;
  const Data& a = *data_;
  const Data& b = *other.data_;
  if (a.shards.size() != b.shards.size() || a.covered != b.covered) return false;

  std::unordered_map<NodeAddress, std::uint16_t> b_index;
  b_index.reserve(b.shards.size());
  for (const Shard& s : b.shards) b_index.emplace(s.primary, static_cast<std::uint16_t>(s.index));
  if (b_index.size() != b.shards.size()) return false;

  // Shard i of `a` is shard to_b[i] of `b`.
  std::vector<std::uint16_t> to_b(a.shards.size());
  for (const Shard& s : a.shards) {
    auto it = b_index.find(s.primary);
    if (it == b_index.end() || b.shards[it->second].replicas != s.replicas) return false;
    to_b[s.index] = it->second;
  }
  for (std::uint32_t slot = 0; slot < kSlotCount; ++slot) {
    const std::uint16_t x = a.slot_shard[slot];
    const std::uint16_t y = b.slot_shard[slot];
    if (x == kNoShard ? y != kNoShard : (y == kNoShard || to_b[x] != y)) return false;
  }
  return true;
}

std::size_t newest_view(const std::vector<TopologyView>& views) {
  std::uint64_t top = 0;
  for (const TopologyView& v : views) top = std::max(top, v.current_epoch);
  std::size_t best = views.size();
  std::size_t best_votes = 0;
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (views[i].current_epoch != top) continue;
    std::size_t votes = 0;
    for (const TopologyView& other : views) votes += views[i].topology->same_layout(*other.topology) ? 1 : 0;
    if (best == views.size() || votes > best_votes) {
      best = i;
      best_votes = votes;
    }
  }
  return best;
}

}  // namespace fibredis
