// Lookup over the command table's rows (lib/resp/command_table.cpp), and what the client reads
// from a command's arguments: where its keys are, how long the server may hold it.
#include <fibredis/resp/command_info.hpp>

#include <fibredis/detail/resp/command_table.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace fibredis {
namespace {

using enum KeyRule;
using enum TimeoutRule;
using detail::kCommandTable;

constexpr unsigned char upper(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') ? static_cast<unsigned char>(u - ('a' - 'A')) : u;
}

// Three-way compare of a table name with the query `head` + "|" + `tail` (just `head` when tail
// is empty), the query folded to upper case on the fly: no copy is built.
int compare_name(std::string_view entry, std::string_view head, std::string_view tail) noexcept {
  const std::size_t query_size = head.size() + (tail.empty() ? 0 : tail.size() + 1);
  const std::size_t n = std::min(entry.size(), query_size);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char q = i < head.size()    ? upper(head[i])
                            : i == head.size() ? static_cast<unsigned char>('|')
                                               : upper(tail[i - head.size() - 1]);
    const auto e = static_cast<unsigned char>(entry[i]);
    if (e != q) return e < q ? -1 : 1;
  }
  return entry.size() < query_size ? -1 : (entry.size() > query_size ? 1 : 0);
}

const CommandInfo* find(std::string_view head, std::string_view tail) noexcept {
  if (head.empty() || head.size() + (tail.empty() ? 0 : tail.size() + 1) > detail::kLongestCommandName)
    return nullptr;
  std::size_t lo = 0, hi = kCommandTable.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const int c = compare_name(kCommandTable[mid].name, head, tail);
    if (c == 0) return &kCommandTable[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return nullptr;
}

// True when `arg` is the option `word` (given in upper case), in any case.
bool is_word(std::string_view arg, std::string_view word) noexcept {
  if (arg.size() != word.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i)
    if (upper(arg[i]) != static_cast<unsigned char>(word[i])) return false;
  return true;
}

// A non-negative decimal integer as the server's string2ll reads it (no sign, no spaces).
std::optional<long long> parse_count(std::string_view s) noexcept {
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || s[0] == '-')
    return std::nullopt;
  return v;
}

void push_range(const CommandInfo& info, std::size_t argc, std::vector<std::size_t>& out) {
  if (info.first_key <= 0) return;
  const auto first = static_cast<long long>(info.first_key);
  const auto args = static_cast<long long>(argc);
  long long last = info.last_key >= 0 ? info.last_key : args + info.last_key;
  last = std::min(last, args - 1);
  const long long step = std::max(info.step, 1);
  for (long long i = first; i <= last; i += step) out.push_back(static_cast<std::size_t>(i));
}

// "numkeys key [key ...]" with numkeys at `at`. A count the arguments cannot hold adds nothing.
void push_numkeys(const Command& cmd, std::size_t at, std::vector<std::size_t>& out) {
  if (cmd.size() <= at) return;
  const auto n = parse_count(cmd[at]);
  if (!n || static_cast<unsigned long long>(*n) > cmd.size() - at - 1) return;
  for (std::size_t i = 0; i < static_cast<std::size_t>(*n); ++i) out.push_back(at + 1 + i);
}

// XREAD [COUNT n] [BLOCK ms] STREAMS k.. id..; XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK]
// STREAMS k.. id... Returns the index of STREAMS (0 if the options are malformed or it is
// missing) and the BLOCK argument's index in *block (0 without BLOCK).
std::size_t scan_stream_options(const Command& cmd, std::size_t* block) noexcept {
  *block = 0;
  std::size_t i = 1;
  while (i < cmd.size()) {
    const std::string_view a = cmd[i];
    if (is_word(a, "STREAMS")) return i;
    if (is_word(a, "BLOCK") && i + 1 < cmd.size()) {
      *block = i + 1;
      i += 2;
    } else if (is_word(a, "COUNT")) {
      i += 2;
    } else if (is_word(a, "GROUP")) {
      i += 3;
    } else if (is_word(a, "NOACK")) {
      i += 1;
    } else {
      return 0;
    }
  }
  return 0;
}

void push_streams(const Command& cmd, std::vector<std::size_t>& out) {
  std::size_t block = 0;
  const std::size_t streams = scan_stream_options(cmd, &block);
  if (streams == 0) return;
  const std::size_t rest = cmd.size() - streams - 1;  // keys, then as many ids
  if (rest == 0 || rest % 2 != 0) return;
  for (std::size_t i = 0; i < rest / 2; ++i) out.push_back(streams + 1 + i);
}

// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k...]
void push_migrate(const Command& cmd, std::vector<std::size_t>& out) {
  if (cmd.size() <= 3) return;
  if (!cmd[3].empty()) {
    out.push_back(3);
    return;
  }
  for (std::size_t i = 6; i < cmd.size(); ++i) {
    const std::string_view a = cmd[i];
    if (is_word(a, "AUTH")) {
      i += 1;  // the password may itself read "KEYS"
    } else if (is_word(a, "AUTH2")) {
      i += 2;
    } else if (is_word(a, "KEYS")) {
      for (std::size_t k = i + 1; k < cmd.size(); ++k) out.push_back(k);
      return;
    }
  }
}

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest];
// GEORADIUS... key ... [COUNT n [ANY]] [STORE key] [STOREDIST key]. The source key and the
// destination; the server takes the last STORE when there are several.
void push_key_and_store(const Command& cmd, std::size_t options_from, bool geo,
                        std::vector<std::size_t>& out) {
  if (cmd.size() <= 1) return;
  out.push_back(1);
  std::size_t dest = 0;
  for (std::size_t i = options_from; i < cmd.size(); ++i) {
    const std::string_view a = cmd[i];
    if (is_word(a, "STORE") || (geo && is_word(a, "STOREDIST"))) {
      if (i + 1 < cmd.size()) dest = i + 1;
      i += 1;
    } else if (!geo && is_word(a, "LIMIT")) {
      i += 2;
    } else if ((!geo && (is_word(a, "BY") || is_word(a, "GET"))) || (geo && is_word(a, "COUNT"))) {
      i += 1;  // a pattern or a count, never a routed key
    }
  }
  if (dest != 0) out.push_back(dest);
}

bool arity_ok(const CommandInfo& info, std::size_t argc) noexcept {
  return info.arity >= 0 ? argc == static_cast<std::size_t>(info.arity)
                         : argc >= static_cast<std::size_t>(-info.arity);
}

// The server's timeout parse (getTimeoutFromObjectOrReply): seconds are a long double scaled to
// ms and truncated toward zero, so "0.0001" means 0 = forever to the server, and so here.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s) noexcept {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);  // strtold accepts a plus sign
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  const double ms = std::trunc(v * 1000.0);
  // NaN and infinities fail the first test; the bound keeps now()+timeout from overflowing.
  if (!(ms >= 0.0) || ms >= 9.0e18) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::optional<std::chrono::milliseconds> parse_millis(std::string_view s) noexcept {
  const auto v = parse_count(s);
  if (!v || *v >= 9'000'000'000'000'000'000LL) return std::nullopt;
  return std::chrono::milliseconds(*v);
}

// find(name) with a one-entry memo of the last name as spelled: a pipeline or a swarm sends one
// command name thousands of times in a row, and the binary search folds case byte by byte at
// every probe (8 % of the client's CPU in the cross-node latency workload, docs/BENCHMARKS.md).
const CommandInfo* find_name(std::string_view name) noexcept {
  struct Memo {
    char name[16] = {};
    std::size_t size = 0;  // 0: empty (no command has an empty name)
    const CommandInfo* info = nullptr;
  };
  thread_local Memo memo;
  if (name.size() == memo.size && std::memcmp(name.data(), memo.name, name.size()) == 0) return memo.info;
  const CommandInfo* info = find(name, {});
  if (!name.empty() && name.size() <= sizeof memo.name) {
    std::memcpy(memo.name, name.data(), name.size());
    memo.size = name.size();
    memo.info = info;
  }
  return info;
}

}  // namespace

const CommandInfo* lookup_command(std::string_view name, std::string_view subcommand) noexcept {
  const CommandInfo* info = find_name(name);
  if (info == nullptr || subcommand.empty() || !info->has(kHasSubcommands)) return info;
  const CommandInfo* sub = find(info->name, subcommand);
  return sub != nullptr ? sub : info;
}

const CommandInfo* lookup_command(const Command& cmd) noexcept {
  if (cmd.empty()) return nullptr;
  return lookup_command(cmd[0], cmd.size() > 1 ? cmd[1] : std::string_view());
}

void key_positions(const Command& cmd, std::vector<std::size_t>& out) {
  out.clear();
  const CommandInfo* info = lookup_command(cmd);
  if (info == nullptr) {
    if (cmd.size() > 1) out.push_back(1);
    return;
  }
  switch (info->key_rule) {
    case Range: push_range(*info, cmd.size(), out); break;
    case NumKeysAt1: push_numkeys(cmd, 1, out); break;
    case NumKeysAt2: push_numkeys(cmd, 2, out); break;
    case DestNumKeys:
      if (cmd.size() > 1) out.push_back(1);
      push_numkeys(cmd, 2, out);
      break;
    case Streams: push_streams(cmd, out); break;
    case Migrate: push_migrate(cmd, out); break;
    case SortStore: push_key_and_store(cmd, 2, false, out); break;
    // GEORADIUS's options start at 6 and GEORADIUSBYMEMBER's at 5; argument 5 of GEORADIUS is
    // its unit, which never reads STORE in a command the server accepts.
    case GeoStore: push_key_and_store(cmd, 5, true, out); break;
  }
}

std::optional<std::chrono::milliseconds> blocking_timeout(const Command& cmd) noexcept {
  const CommandInfo* info = lookup_command(cmd);
  if (info == nullptr || info->timeout_rule == NoTimeout || !arity_ok(*info, cmd.size()))
    return std::nullopt;
  switch (info->timeout_rule) {
    case NoTimeout: break;
    case LastArgSeconds: return parse_seconds(cmd[cmd.size() - 1]);
    case Arg1Seconds: return parse_seconds(cmd[1]);
    case LastArgMs: return parse_millis(cmd[cmd.size() - 1]);
    case BlockOption: {
      std::size_t block = 0;
      if (scan_stream_options(cmd, &block) == 0 || block == 0) return std::nullopt;
      return parse_millis(cmd[block]);
    }
  }
  return std::nullopt;
}

}  // namespace fibredis
