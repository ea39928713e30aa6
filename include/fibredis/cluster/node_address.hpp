// NodeAddress: how a cluster node is reached, "host:port" as the cluster itself spells it in
// CLUSTER SHARDS / CLUSTER SLOTS and in MOVED / ASK redirects.
//
// The host is kept as text (an IP literal or a name): resolving it is the net layer's business, and
// the text is what identifies the node across topology snapshots. IPv6 literals are written the way
// Redis writes them, without brackets ("::1:7000"): only the last colon separates the port.
#pragma once

#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fibredis {

struct NodeAddress {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
  /// Host text first, then port: a stable order for maps and for tests.
  friend std::strong_ordering operator<=>(const NodeAddress&, const NodeAddress&) = default;

  /// "host:port", e.g. "127.0.0.1:7000" or "::1:7000" (Redis style, no brackets).
  std::string to_string() const {
    std::string out;
    out.reserve(host.size() + 6);
    out.append(host);
    out.push_back(':');
    out.append(std::to_string(port));
    return out;
  }

  /// Parses "host:port": the last colon splits host from port, so "::1:7000" is host "::1";
  /// "[::1]:7000" is accepted too and loses its brackets. The port must be 1..65535 in plain
  /// decimal. An empty host is allowed (a redirect such as "MOVED 1 :7000" means "the node you
  /// asked"; the caller substitutes the host). std::nullopt when malformed.
  static std::optional<NodeAddress> parse(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view digits = text.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned port = 0;
    const char* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, port);
    if (ec != std::errc() || ptr != end || port == 0 || port > 65535)
      return std::nullopt;
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    return NodeAddress{std::string(host), static_cast<std::uint16_t>(port)};
  }
};

/// Optional remapping applied to every address the cluster announces (topology replies and
/// redirects) before the client connects to it: for NAT, port forwarding, or a proxy per node
/// (redis-py's `address_remap`). Must be a pure function of its argument.
using AddressMap = std::function<NodeAddress(const NodeAddress&)>;

/// One answer per node, ordered by address: what every fan-out to a target returns
/// (ClusterClient::execute_on, rc.on(target).<command>()).
template <class T>
using PerNode = std::map<NodeAddress, T>;

}  // namespace fibredis

template <>
struct std::hash<fibredis::NodeAddress> {
  std::size_t operator()(const fibredis::NodeAddress& a) const noexcept {
    const std::size_t h = std::hash<std::string>{}(a.host);
    // boost::hash_combine's mixing step: cheap, and ports that differ by one land far apart.
    return h ^ (std::size_t{a.port} + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};
