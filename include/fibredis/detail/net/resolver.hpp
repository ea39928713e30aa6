// Name resolution that never blocks the runtime thread.
//
// Numeric addresses (IPv4/IPv6 literals) are parsed in place. Names go to getaddrinfo on a short-
// lived helper thread; the calling fiber waits for an eventfd read in the ring, so the ring stays
// the only event source and only that fiber waits.
#pragma once

#include <fibredis/runtime/deadline.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace fibredis {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family() const noexcept { return addr.ss_family; }
  std::string to_string() const;
};

/// Fills `out` with the addresses of host:port (IPv4 first). Errors: errc::resolve_failed,
/// errc::timeout (the deadline passed; the helper thread finishes on its own and is forgotten).
std::error_code resolve(const std::string& host, std::uint16_t port, Deadline deadline,
                        std::vector<Endpoint>& out);

/// Parses a numeric address without any I/O; false if `host` is not a literal.
bool parse_numeric(const std::string& host, std::uint16_t port, Endpoint& out) noexcept;

}  // namespace fibredis
