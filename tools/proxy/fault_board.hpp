// FaultBoard: what fibredis-proxy is told to do to its traffic, and the control commands that
// change it. Pure logic (no sockets, no fibers): the relays read the board, the control socket
// feeds it words, and tests/unit checks the command language without a proxy running.
//
// A proxy forwards one or more routes (a listening port -> a target); each route has its own
// faults, and a command without a route name applies to every route. docs/PROXY.md is the manual.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis::proxy {

/// The one exclusive fault of a route; delays are separate and combine with any of them.
enum class Fault {
  none,       ///< forward everything
  stall,      ///< hold bytes in both directions, deliver them in order once the fault ends
  blackhole,  ///< read and discard bytes both ways; connections stay open; on heal, holed ones reset
  truncate,   ///< the next server->client chunk of each connection is cut in half, then RST
  split,      ///< server->client bytes go out one byte per send()
  refuse,     ///< the listening socket is closed: new connections get ECONNREFUSED
};

std::string_view fault_name(Fault f) noexcept;
std::optional<Fault> parse_fault(std::string_view name) noexcept;

/// The state of one route's faults.
struct RouteFaults {
  std::chrono::milliseconds up_delay{0};    ///< client -> server, one way
  std::chrono::milliseconds down_delay{0};  ///< server -> client, one way
  Fault fault = Fault::none;
  /// When set, the fault hits only connections from this source address (a node of a cluster
  /// whose outgoing connections come from their own loopback address: a partition must also
  /// cut what the isolated node sends to the others). Delays always apply to every connection.
  std::string from;
};

/// What a command asks the relays to do besides changing the board.
struct BoardEffect {
  std::vector<std::size_t> changed;  ///< routes whose faults changed (wake their relays)
  std::vector<std::size_t> reset;    ///< routes whose every open connection must be reset now
  std::vector<std::size_t> healed;   ///< routes that left blackhole: reset connections with holes
  bool status = false;               ///< STATUS: the caller adds connection counts and answers
};

struct ControlReply {
  bool ok = true;
  std::string text;  ///< "OK", the status text, or the error message
  bool bulk = false; ///< multi-line text (a RESP bulk string rather than a status line)
};

class FaultBoard {
 public:
  /// Adds a route named `name` (unique, [A-Za-z0-9_-]); returns its index.
  std::size_t add_route(std::string name);

  std::size_t size() const noexcept { return routes_.size(); }
  const std::string& name(std::size_t route) const { return names_.at(route); }
  const RouteFaults& faults(std::size_t route) const { return routes_.at(route); }
  /// Sets the delay of every route in both directions (the --delay-ms start-up option).
  void set_all_delays(std::chrono::milliseconds d);

  /// Applies one control command (words, case-insensitive verbs):
  ///   PING | STATUS | FAULT <fault> [route] [FROM addr] | DELAY <up|down|both> <ms> [route]
  ///   RESET [route] | CLEAR [route]
  /// `effect` says which relays must act (and, for STATUS, that the caller must answer, since
  /// the board does not know the connections).
  ControlReply apply(const std::vector<std::string>& words, BoardEffect& effect);

 private:
  /// The routes a command names: all of them for an empty name; nullopt if unknown.
  std::optional<std::vector<std::size_t>> select(const std::vector<std::string>& words,
                                                 std::size_t at) const;

  std::vector<std::string> names_;
  std::vector<RouteFaults> routes_;
};

/// Parses control requests from `buf`: RESP arrays of bulk strings (what redis-cli sends) or
/// inline lines of space-separated words ending in LF (what `nc` sends). Complete requests are
/// appended to `out` and removed from `buf`. Returns false on a malformed request (the control
/// connection is then closed); an incomplete one stays in `buf`.
bool take_requests(std::string& buf, std::vector<std::vector<std::string>>& out);

/// A reply in RESP: +OK / -ERR text / $n bulk.
std::string encode_reply(const ControlReply& r);

}  // namespace fibredis::proxy
