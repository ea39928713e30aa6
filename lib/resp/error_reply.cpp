#include "fibredis/detail/resp/error_reply.hpp"

#include <charconv>

namespace fibredis {

namespace {

std::string_view first_word(std::string_view text) noexcept {
  return text.substr(0, text.find(' '));
}

// Parses all of `digits` as a decimal number no greater than `max`. No sign, no spaces.
bool parse_bounded(std::string_view digits, unsigned max, unsigned& out) noexcept {
  if (digits.empty() || digits.front() < '0' || digits.front() > '9') return false;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, out);
  return ec == std::errc() && ptr == end && out <= max;
}

}  // namespace

ErrorKind classify_error(std::string_view text) noexcept {
  const std::string_view word = first_word(text);
  // Checked roughly by how often the cluster retry loop sees them.
  if (word == "MOVED") return ErrorKind::Moved;
  if (word == "ASK") return ErrorKind::Ask;
  if (word == "TRYAGAIN") return ErrorKind::TryAgain;
  if (word == "CLUSTERDOWN") return ErrorKind::ClusterDown;
  if (word == "CROSSSLOT") return ErrorKind::CrossSlot;
  if (word == "LOADING") return ErrorKind::Loading;
  if (word == "MASTERDOWN") return ErrorKind::MasterDown;
  if (word == "READONLY") return ErrorKind::ReadOnly;
  if (word == "NOSCRIPT") return ErrorKind::NoScript;
  if (word == "EXECABORT") return ErrorKind::ExecAbort;
  if (word == "BUSY") return ErrorKind::Busy;
  if (word == "WRONGPASS" || word == "NOAUTH") return ErrorKind::Auth;
  if (word == "ERR") {
    // Servers before 6.0 (no ACL) report bad credentials as plain ERR replies.
    if (text.starts_with("ERR invalid password") ||
        text.starts_with("ERR invalid username-password pair") ||
        text.starts_with("ERR AUTH <password> called without any password configured") ||
        text.starts_with("ERR Client sent AUTH, but no password is set"))
      return ErrorKind::Auth;
  }
  return ErrorKind::Other;
}

std::optional<Redirect> parse_redirect(std::string_view text) {
  Redirect r;
  const std::string_view word = first_word(text);
  if (word == "MOVED") {
    r.ask = false;
  } else if (word == "ASK") {
    r.ask = true;
  } else {
    return std::nullopt;
  }
  if (word.size() == text.size()) return std::nullopt;
  text.remove_prefix(word.size() + 1);

  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  if (!parse_bounded(text.substr(0, space), 16383, slot)) return std::nullopt;
  r.slot = static_cast<std::uint16_t>(slot);

  // The endpoint runs to the end of the text; Redis never quotes or brackets it, and an IPv6
  // address holds colons of its own, so only the last colon separates the port.
  const std::string_view endpoint = text.substr(space + 1);
  if (endpoint.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
  const std::size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  unsigned port = 0;
  if (!parse_bounded(endpoint.substr(colon + 1), 65535, port) || port == 0) return std::nullopt;
  r.port = static_cast<std::uint16_t>(port);

  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // tolerate "[::1]:6381" from proxies
  }
  // Brackets only ever enclose the whole host, once ("[[::1]]" or "a]b" name nothing).
  if (host.find_first_of("[]") != std::string_view::npos) return std::nullopt;
  r.host.assign(host);
  return r;
}

}  // namespace fibredis
