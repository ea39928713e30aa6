#include "fault_board.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace fibredis::proxy {

namespace {

constexpr Fault kFaults[] = {Fault::none,     Fault::stall, Fault::blackhole,
                             Fault::truncate, Fault::split, Fault::refuse};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool valid_name(std::string_view n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

ControlReply error(std::string text) { return {false, std::move(text), false}; }

// A control request may not be larger than this: it is a handful of short words.
constexpr std::size_t kMaxRequest = 4096;

bool parse_size(std::string_view s, long& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string_view fault_name(Fault f) noexcept {
  switch (f) {
    case Fault::none: return "none";
    case Fault::stall: return "stall";
    case Fault::blackhole: return "blackhole";
    case Fault::truncate: return "truncate";
    case Fault::split: return "split";
    case Fault::refuse: return "refuse";
  }
  return "?";
}

std::optional<Fault> parse_fault(std::string_view name) noexcept {
  for (Fault f : kFaults) {
    const std::string_view n = fault_name(f);
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        }))
      return f;
  }
  return std::nullopt;
}

std::size_t FaultBoard::add_route(std::string name) {
  if (!valid_name(name)) throw std::invalid_argument("bad route name '" + name + "'");
  if (std::find(names_.begin(), names_.end(), name) != names_.end())
    throw std::invalid_argument("route name '" + name + "' used twice");
  names_.push_back(std::move(name));
  routes_.emplace_back();
  return routes_.size() - 1;
}

void FaultBoard::set_all_delays(std::chrono::milliseconds d) {
  for (RouteFaults& r : routes_) r.up_delay = r.down_delay = d;
}

std::optional<std::vector<std::size_t>> FaultBoard::select(const std::vector<std::string>& words,
                                                           std::size_t at) const {
  std::vector<std::size_t> out;
  if (words.size() <= at) {
    for (std::size_t i = 0; i < routes_.size(); ++i) out.push_back(i);
    return out;
  }
  if (words.size() > at + 1) return std::nullopt;
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == words[at]) out.push_back(i);
  if (out.empty()) return std::nullopt;
  return out;
}

ControlReply FaultBoard::apply(const std::vector<std::string>& words, BoardEffect& effect) {
  effect = {};
  if (words.empty()) return error("ERR empty command");
  const std::string verb = upper(words[0]);
  auto bad_route = [&](std::size_t at) {
    std::string known;
    for (const std::string& n : names_) known += (known.empty() ? "" : ", ") + n;
    return error("ERR unknown route '" + (words.size() > at ? words[at] : std::string()) +
                 "' or too many arguments (routes: " + known + ")");
  };
  if (verb == "PING") return {true, "PONG", false};
  if (verb == "STATUS") {
    effect.status = true;
    return {true, "", true};
  }
  if (verb == "FAULT") {
    if (words.size() < 2)
      return error("ERR usage: FAULT none|stall|blackhole|truncate|split|refuse [ROUTE] [FROM ADDR]");
    const auto f = parse_fault(words[1]);
    if (!f) return error("ERR unknown fault '" + words[1] + "' (none, stall, blackhole, truncate, split, refuse)");
    std::vector<std::string> rest(words.begin(), words.end());
    std::string from;
    if (rest.size() >= 4 && upper(rest[rest.size() - 2]) == "FROM") {
      from = rest.back();
      rest.resize(rest.size() - 2);
    } else if (rest.size() >= 3 && upper(rest.back()) == "FROM") {
      return error("ERR FROM needs an address");
    }
    if (!from.empty() && *f == Fault::refuse) return error("ERR refuse acts on the listener: it takes no FROM");
    const auto sel = select(rest, 2);
    if (!sel) return bad_route(2);
    for (std::size_t r : *sel) {
      const Fault old = routes_[r].fault;
      const bool same_sources = routes_[r].from == from;
      routes_[r].fault = *f;
      routes_[r].from = from;
      effect.changed.push_back(r);
      if (old == Fault::blackhole && (*f != Fault::blackhole || !same_sources)) effect.healed.push_back(r);
    }
    return {true, "OK", false};
  }
  if (verb == "DELAY") {
    if (words.size() < 3) return error("ERR usage: DELAY up|down|both MS [ROUTE]");
    const std::string dir = upper(words[1]);
    long ms = 0;
    if (!parse_size(words[2], ms) || ms < 0 || ms > 600000)
      return error("ERR delay must be 0..600000 ms, got '" + words[2] + "'");
    if (dir != "UP" && dir != "DOWN" && dir != "BOTH") return error("ERR direction must be up, down or both");
    const auto sel = select(words, 3);
    if (!sel) return bad_route(3);
    for (std::size_t r : *sel) {
      if (dir != "DOWN") routes_[r].up_delay = std::chrono::milliseconds(ms);
      if (dir != "UP") routes_[r].down_delay = std::chrono::milliseconds(ms);
      effect.changed.push_back(r);
    }
    return {true, "OK", false};
  }
  if (verb == "RESET") {
    const auto sel = select(words, 1);
    if (!sel) return bad_route(1);
    effect.reset = *sel;
    return {true, "OK", false};
  }
  if (verb == "CLEAR") {
    const auto sel = select(words, 1);
    if (!sel) return bad_route(1);
    for (std::size_t r : *sel) {
      if (routes_[r].fault == Fault::blackhole) effect.healed.push_back(r);
      routes_[r] = RouteFaults{};
      effect.changed.push_back(r);
    }
    return {true, "OK", false};
  }
  return error("ERR unknown command '" + words[0] + "' (PING, STATUS, FAULT, DELAY, RESET, CLEAR)");
}

bool take_requests(std::string& buf, std::vector<std::vector<std::string>>& out) {
  std::size_t pos = 0;
  while (pos < buf.size()) {
    const std::size_t start = pos;
    if (buf[pos] == '*') {
      // *N\r\n then N times $LEN\r\nBYTES\r\n: the RESP request redis-cli sends.
      auto line = [&](std::size_t from, std::string_view& l) {
        const std::size_t e = buf.find("\r\n", from);
        if (e == std::string::npos) return std::string::npos;
        l = std::string_view(buf).substr(from, e - from);
        return e + 2;
      };
      std::string_view l;
      std::size_t p = line(pos + 1, l);
      if (p == std::string::npos) break;
      long n = 0;
      if (!parse_size(l, n) || n < 1 || n > 16) return false;
      std::vector<std::string> words;
      bool complete = true;
      for (long i = 0; i < n; ++i) {
        if (p >= buf.size()) { complete = false; break; }
        if (buf[p] != '$') return false;
        const std::size_t q = line(p + 1, l);
        if (q == std::string::npos) { complete = false; break; }
        long len = 0;
        if (!parse_size(l, len) || len < 0 || len > static_cast<long>(kMaxRequest)) return false;
        if (buf.size() < q + static_cast<std::size_t>(len) + 2) { complete = false; break; }
        if (buf.compare(q + static_cast<std::size_t>(len), 2, "\r\n") != 0) return false;
        words.emplace_back(buf, q, static_cast<std::size_t>(len));
        p = q + static_cast<std::size_t>(len) + 2;
      }
      if (!complete) {
        pos = start;
        break;
      }
      out.push_back(std::move(words));
      pos = p;
      continue;
    }
    const std::size_t e = buf.find('\n', pos);
    if (e == std::string::npos) break;
    std::vector<std::string> words;
    std::string_view l = std::string_view(buf).substr(pos, e - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    while (!l.empty()) {
      const std::size_t s = l.find_first_not_of(" \t");
      if (s == std::string_view::npos) break;
      l.remove_prefix(s);
      const std::size_t w = std::min(l.find_first_of(" \t"), l.size());
      words.emplace_back(l.substr(0, w));
      l.remove_prefix(w);
    }
    if (!words.empty()) out.push_back(std::move(words));
    pos = e + 1;
  }
  buf.erase(0, pos);
  return buf.size() <= kMaxRequest;
}

std::string encode_reply(const ControlReply& r) {
  if (!r.ok) return "-" + r.text + "\r\n";
  if (r.bulk) return "$" + std::to_string(r.text.size()) + "\r\n" + r.text + "\r\n";
  return "+" + r.text + "\r\n";
}

}  // namespace fibredis::proxy
