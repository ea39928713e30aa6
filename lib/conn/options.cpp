#include <fibredis/conn/options.hpp>

#include <fibredis/errors.hpp>

#include <charconv>

namespace fibredis {

namespace {
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

template <class T>
T parse_number(std::string_view text, std::string_view what, std::string_view url) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    throw UsageError("bad " + std::string(what) + " in URL '" + std::string(url) + "'");
  return v;
}
}  // namespace

Options Options::from_url(std::string_view url) {
  Options o;
  std::string_view rest = url;
  if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("rediss://")) {
    throw UsageError("rediss:// (TLS) is not supported by fibredis: '" + std::string(url) + "'");
  } else {
    throw UsageError("URL must start with redis://: '" + std::string(url) + "'");
  }
  // Query string (?...) is not used by fibredis; drop it rather than misparse it as a db number.
  if (auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      o.username = percent_decode(userinfo.substr(0, colon));
      o.password = percent_decode(userinfo.substr(colon + 1));
    } else {
      o.password = percent_decode(userinfo);  // redis://secret@host: a bare password
    }
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) o.db = parse_number<int>(db, "database number", url);
  }
  std::string_view host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
    auto close = hostport.find(']');
    if (close == std::string_view::npos) throw UsageError("bad IPv6 host in URL '" + std::string(url) + "'");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (after.starts_with(":")) o.port = parse_number<std::uint16_t>(after.substr(1), "port", url);
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    o.port = parse_number<std::uint16_t>(hostport.substr(colon + 1), "port", url);
  }
  if (!host.empty()) o.host = std::string(host);
  return o;
}

std::string Options::address() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace fibredis
