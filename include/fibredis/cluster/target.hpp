// Target: where a keyless command goes (redis-py's target_nodes). Primaries, Replicas, AllNodes:
// those of the current slot map; Random: one node of the map, picked uniformly at random each
// call (a per-client generator seeded from std::random_device; not round-robin); Default: the
// client's default node; or named nodes.
//
// @code
//   rc.on(fibredis::Target::AllNodes).ping();                 // std::map<NodeAddress, std::string>
//   rc.on(fibredis::Target::Primaries).dbsize();
//   rc.on(fibredis::NodeAddress{"127.0.0.1", 7001}).info("memory");
// @endcode
#pragma once

#include <fibredis/cluster/node_address.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace fibredis {

class Target {
 public:
  enum class Kind : std::uint8_t { Primaries, Replicas, AllNodes, Random, Default, Nodes };

  Target(Kind k) : kind_(k) {}  // NOLINT: implicit, so Target::Kind values read naturally
  Target(NodeAddress node) : kind_(Kind::Nodes), nodes_{std::move(node)} {}
  Target(std::vector<NodeAddress> nodes) : kind_(Kind::Nodes), nodes_(std::move(nodes)) {}

  Kind kind() const noexcept { return kind_; }
  const std::vector<NodeAddress>& nodes() const noexcept { return nodes_; }

  static const Target Primaries;
  static const Target Replicas;
  static const Target AllNodes;
  static const Target Random;
  static const Target Default;

 private:
  Kind kind_;
  std::vector<NodeAddress> nodes_;
};

inline const Target Target::Primaries{Target::Kind::Primaries};
inline const Target Target::Replicas{Target::Kind::Replicas};
inline const Target Target::AllNodes{Target::Kind::AllNodes};
inline const Target Target::Random{Target::Kind::Random};
inline const Target Target::Default{Target::Kind::Default};

}  // namespace fibredis
