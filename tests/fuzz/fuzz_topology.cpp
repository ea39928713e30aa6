// libFuzzer target: the CLUSTER SHARDS / CLUSTER SLOTS topology builders (cluster/topology.hpp).
//
// Input: 1 control byte (bit 0: SHARDS or SLOTS; bit 1: with an AddressMap), then RESP bytes,
// read with the RESP reader into a Reply and handed to the builder. A malformed reply must end
// in ProtocolError and nothing else; a reply the builder accepts must give a snapshot whose
// invariants hold: every slot's shard is one of shards() at its own index, the covered count and
// the uncovered ranges agree with the slot table, replicas are sorted and unique and never the
// primary, every shard's nodes appear in nodes(), and applying a MOVED keeps all of that.
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/reader.hpp>
#include <fibredis/resp/reply.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace fibredis;

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "topology invariant broken: %s\n", what);
  std::abort();
}

bool named(const Topology& t, const NodeAddress& a) {
  const auto& nodes = t.nodes();
  return std::any_of(nodes.begin(), nodes.end(), [&](const NodeInfo& n) { return n.address == a; });
}

void check_invariants(const Topology& t, bool from_reply) {
  const auto& shards = t.shards();
  std::uint32_t covered = 0;
  for (std::uint32_t i = 0; i < shards.size(); ++i) {
    const Shard& s = shards[i];
    check(s.index == i, "shard index is its position");
    check(std::is_sorted(s.replicas.begin(), s.replicas.end()), "replicas sorted");
    check(std::adjacent_find(s.replicas.begin(), s.replicas.end()) == s.replicas.end(),
          "replicas unique");
    check(std::find(s.replicas.begin(), s.replicas.end(), s.primary) == s.replicas.end(),
          "a primary is not its own replica");
    if (from_reply) {
      check(named(t, s.primary), "primary listed in nodes()");
      for (const NodeAddress& r : s.replicas) check(named(t, r), "replica listed in nodes()");
    }
  }
  for (std::uint32_t slot = 0; slot < kSlotCount; ++slot) {
    const Shard* s = t.shard_for_slot(static_cast<std::uint16_t>(slot));
    if (s == nullptr) continue;
    ++covered;
    check(s->index < shards.size() && &shards[s->index] == s, "slot maps into shards()");
  }
  check(t.shard_for_slot(static_cast<std::uint16_t>(kSlotCount)) == nullptr, "slot 16384 uncovered");
  check(covered == t.covered_slots(), "covered_slots counts the table");
  check(t.fully_covered() == (covered == kSlotCount), "fully_covered");
  std::uint32_t holes = 0;
  std::uint32_t prev_end = 0;
  bool first = true;
  for (auto [lo, hi] : t.uncovered_ranges()) {
    check(lo <= hi && hi < kSlotCount, "uncovered range well formed");
    check(first || lo > prev_end + 1, "uncovered ranges ascending and merged");
    for (std::uint32_t s = lo; s <= hi; ++s)
      check(t.shard_for_slot(static_cast<std::uint16_t>(s)) == nullptr, "uncovered slot uncovered");
    holes += hi - lo + 1;
    prev_end = hi;
    first = false;
  }
  check(holes + covered == kSlotCount, "uncovered ranges cover the rest");
  for (const NodeAddress& p : t.primaries()) check(t.role_of(p).has_value(), "primary has a role");
  check(t.same_layout(t), "same_layout is reflexive");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool shards = (data[0] & 1) == 0;
  const bool remap = (data[0] & 2) != 0;
  ReplyReader reader;
  reader.feed(reinterpret_cast<const char*>(data + 1), size - 1);
  std::error_code ec;
  auto reply = reader.next(ec);
  if (!reply) return 0;

  const NodeAddress origin{"10.0.0.1", 7000};
  AddressMap map;
  if (remap) map = [](const NodeAddress& a) { return NodeAddress{"remapped", a.port}; };
  Topology t;
  try {
    t = shards ? Topology::from_cluster_shards(*reply, origin, map)
               : Topology::from_cluster_slots(*reply, origin, map);
  } catch (const ProtocolError&) {
    return 0;  // the only way a builder may refuse a reply
  }
  check_invariants(t, true);
  if (!t.shards().empty()) {
    const std::uint16_t slot = static_cast<std::uint16_t>(size % kSlotCount);
    const Topology moved = t.with_slot_moved(slot, t.shards().back().primary);
    check_invariants(moved, false);
    check(moved.shard_for_slot(slot) != nullptr &&
              moved.shard_for_slot(slot)->primary == t.shards().back().primary,
          "with_slot_moved routes the slot to the named primary");
    const Topology elsewhere = t.with_slot_moved(slot, NodeAddress{"new-node", 1});
    check_invariants(elsewhere, false);
    check(elsewhere.shard_for_slot(slot)->primary == (NodeAddress{"new-node", 1}),
          "with_slot_moved to a new node adds its shard");
  }
  return 0;
}
