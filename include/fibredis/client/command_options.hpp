// The argument and option types of the typed commands (client/commands.hpp), and the few encoding
// rules they share (EX vs PX, blocking timeouts in decimal seconds).
//
// ArgList / PairList are parameter types: they view the caller's strings (Command copies the bytes
// at once), so one signature takes a single key, a braced list or any container:
// @code
//   c.del("a");                        // one
//   c.del({"a", "b"});                 // a braced list
//   c.del(std::vector<std::string>{}); // any range of things convertible to std::string_view
//   c.hset("h", {{"f1", "v1"}, {"f2", "v2"}});
//   c.zadd("z", std::map<std::string, double>{{"m", 1.5}});
// @endcode
#pragma once

#include <fibredis/errors.hpp>
#include <fibredis/resp/command.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace fibredis {

namespace detail {

template <class R>
concept StringRange = requires(const R& r) {
  { *std::begin(r) } -> std::convertible_to<std::string_view>;
  std::end(r);
};

template <class R, class V>
concept PairRange = requires(const R& r) {
  { std::begin(r)->first } -> std::convertible_to<std::string_view>;
  { std::begin(r)->second } -> std::convertible_to<V>;
  std::end(r);
};

/// A few values inline, more on the heap; copies stay valid (no pointers into itself).
template <class T, std::size_t N>
class SmallList {
 public:
  void push_back(T v) {
    if (size_ < N) {
      inline_[size_] = std::move(v);
    } else {
      if (size_ == N) heap_.assign(inline_.begin(), inline_.end());
      heap_.push_back(std::move(v));
    }
    ++size_;
  }
  const T* begin() const noexcept { return size_ > N ? heap_.data() : inline_.data(); }
  const T* end() const noexcept { return begin() + size_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::array<T, N> inline_{};
  std::vector<T> heap_;
  std::size_t size_ = 0;
};

}  // namespace detail

/// One or more string arguments (keys, members, fields, values). It views the caller's strings,
/// so it may outlive the call only as long as they do.
class ArgList {
 public:
  ArgList() = default;
  ArgList(std::string_view one) { items_.push_back(one); }
  ArgList(const char* one) : ArgList(std::string_view(one)) {}
  ArgList(const std::string& one) : ArgList(std::string_view(one)) {}
  ArgList(std::initializer_list<std::string_view> many) {
    for (std::string_view s : many) items_.push_back(s);
  }
  template <detail::StringRange R>
    requires(!std::convertible_to<const R&, std::string_view>)
  ArgList(const R& many) {
    for (const auto& s : many) items_.push_back(std::string_view(s));
  }

  const std::string_view* begin() const noexcept { return items_.begin(); }
  const std::string_view* end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return size() == 0; }

 private:
  detail::SmallList<std::string_view, 8> items_;
};

/// (name, value) pairs: field/value for HSET and MSET (V = std::string_view), member/score for
/// ZADD (V = double). Takes a braced list or any range of pairs (std::map, vector<pair<...>>).
template <class V>
class PairList {
 public:
  using value_type = std::pair<std::string_view, V>;

  PairList(std::initializer_list<value_type> list) {
    for (const auto& p : list) items_.push_back(p);
  }
  template <detail::PairRange<V> R>
  PairList(const R& range) {
    for (const auto& [k, v] : range) items_.push_back(value_type(std::string_view(k), V(v)));
  }

  const value_type* begin() const noexcept { return items_.begin(); }
  const value_type* end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return size() == 0; }

 private:
  detail::SmallList<value_type, 4> items_;
};

/// NX / XX: write only if the key (or member) does not exist yet / already exists.
enum class Condition : std::uint8_t { Always, IfNotExists, IfExists };

/// SET's options. At most one of ttl, expire_at and keep_ttl (UsageError otherwise).
struct SetOptions {
  /// EX / PX: expire after this long. Sent as EX when it is whole seconds, PX otherwise.
  std::optional<std::chrono::milliseconds> ttl{};
  /// EXAT / PXAT: expire at this instant (PXAT unless it is whole seconds).
  std::optional<std::chrono::system_clock::time_point> expire_at{};
  /// KEEPTTL: keep the key's current time to live instead of clearing it.
  bool keep_ttl = false;
  Condition condition = Condition::Always;
};

/// GETEX's options. At most one of ttl, expire_at and persist (UsageError otherwise).
struct GetExOptions {
  std::optional<std::chrono::milliseconds> ttl{};
  std::optional<std::chrono::system_clock::time_point> expire_at{};
  /// PERSIST: remove the time to live.
  bool persist = false;
};

/// EXPIRE's NX / XX / GT / LT (Redis 7.0): set the expiry only if the key has none / has one /
/// the new one is later / the new one is sooner (a key without expiry counts as infinite).
enum class ExpireCondition : std::uint8_t { Always, IfNoTtl, IfHasTtl, IfGreater, IfLess };

/// Which end of a list: LEFT (head) or RIGHT (tail), for LMOVE / BLMOVE.
enum class ListEnd : std::uint8_t { Left, Right };

/// LINSERT BEFORE / AFTER the pivot.
enum class InsertPosition : std::uint8_t { Before, After };

/// LPOS's RANK (1 = first match, -1 = last, 2 = second...) and MAXLEN (compare at most this many
/// elements; 0 = all).
struct LposOptions {
  std::optional<long long> rank{};
  std::optional<long long> maxlen{};
};

/// SCAN-family options. `type` (TYPE filter) applies to SCAN only; HSCAN/SSCAN/ZSCAN reject it.
struct ScanOptions {
  /// MATCH glob-style pattern; empty = all.
  std::string match{};
  /// COUNT hint of work per call (not a page size); 0 = server default (10).
  std::size_t count = 0;
  /// TYPE (Redis ≥ 6.0): "string", "list", "hash", "set", "zset", "stream"; empty = any.
  std::string type{};
};

/// ZADD's GT / LT: update existing members only when the new score is greater / less.
enum class ScoreUpdate : std::uint8_t { Always, IfGreater, IfLess };

struct ZAddOptions {
  /// NX: only add new members; XX: only update existing ones.
  Condition condition = Condition::Always;
  ScoreUpdate update = ScoreUpdate::Always;
  /// CH: return the number of members added or changed, not just added.
  bool changed = false;
};

/// One end of a score range: a number (inclusive), exclusive(x) for "(x", or the raw Redis text
/// ("-inf", "+inf", "(1.5").
class ScoreBound {
 public:
  template <class N>
    requires std::is_arithmetic_v<N>
  ScoreBound(N value) : text_(number_text(static_cast<double>(value))) {}
  template <class S>
    requires(!std::is_arithmetic_v<S> && std::convertible_to<const S&, std::string_view>)
  ScoreBound(const S& text) : text_(std::string_view(text)) {}

  static ScoreBound exclusive(double value) { return ScoreBound("(" + number_text(value)); }
  static ScoreBound min() { return ScoreBound("-inf"); }
  static ScoreBound max() { return ScoreBound("+inf"); }

  std::string_view text() const noexcept { return text_; }

 private:
  static std::string number_text(double v) {
    Command c;  // one place formats doubles the way the server reads them back
    c.arg(v);
    return std::string(c[0]);
  }
  std::string text_;
};

/// LIMIT offset count for ZRANGEBYSCORE; a negative count means "all from offset".
struct Limit {
  long long offset = 0;
  long long count = -1;
};

/// ZUNIONSTORE / ZINTERSTORE: AGGREGATE SUM | MIN | MAX.
enum class Aggregate : std::uint8_t { Sum, Min, Max };

struct ZStoreOptions {
  /// WEIGHTS, one per source key; empty = all 1.
  std::vector<double> weights{};
  Aggregate aggregate = Aggregate::Sum;
};

/// XADD's entry ID and MAXLEN trimming.
struct XAddOptions {
  /// "*" lets the server pick the ID.
  std::string_view id = "*";
  /// MAXLEN: trim the stream to about this many entries after adding.
  std::optional<long long> maxlen{};
  /// "~": trim only whole macro nodes (cheaper; the stream may stay a little longer).
  bool approximate = false;
};

namespace detail {

/// Blocking timeouts travel as decimal seconds ("0.5" for 500 ms; "0" = forever, Redis ≥ 6.0).
inline std::string timeout_text(std::chrono::milliseconds t) {
  if (t.count() < 0) throw UsageError("blocking timeout must not be negative");
  std::string s = std::to_string(t.count() / 1000);
  if (long long frac = t.count() % 1000; frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    s += '.';
    s += digits;
  }
  return s;
}

/// Appends the timeout argument and marks the command as one the server may hold that long.
inline Command& blocking(Command& cmd, std::chrono::milliseconds timeout) {
  cmd.arg(timeout_text(timeout));
  cmd.blocking = timeout;
  return cmd;
}

/// WAIT/WAITAOF's timeout: integer milliseconds, last; the deadline covers it.
inline Command& wait_cmd(Command& cmd, std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) throw UsageError("WAIT timeout must not be negative");
  cmd.arg(static_cast<long long>(timeout.count()));
  cmd.blocking = timeout;
  return cmd;
}

template <class Rep, class Period>
bool whole_seconds(std::chrono::duration<Rep, Period> d) {
  return d % std::chrono::seconds(1) == d.zero();
}

/// EX/PX, EXAT/PXAT: the coarser unit when it is exact, so the server sees what the caller wrote.
inline void append_expiry(Command& cmd, const std::optional<std::chrono::milliseconds>& ttl,
                          const std::optional<std::chrono::system_clock::time_point>& at) {
  using namespace std::chrono;
  if (ttl) {
    if (whole_seconds(*ttl))
      cmd.arg("EX").arg(static_cast<long long>(duration_cast<seconds>(*ttl).count()));
    else
      cmd.arg("PX").arg(static_cast<long long>(ttl->count()));
  }
  if (at) {
    auto ms = duration_cast<milliseconds>(at->time_since_epoch());
    if (whole_seconds(ms))
      cmd.arg("EXAT").arg(static_cast<long long>(duration_cast<seconds>(ms).count()));
    else
      cmd.arg("PXAT").arg(static_cast<long long>(ms.count()));
  }
}

inline Command& append(Command& cmd, const SetOptions& o) {
  if (int(o.ttl.has_value()) + int(o.expire_at.has_value()) + int(o.keep_ttl) > 1)
    throw UsageError("SET: choose at most one of ttl, expire_at and keep_ttl");
  if (o.condition == Condition::IfNotExists) cmd.arg("NX");
  if (o.condition == Condition::IfExists) cmd.arg("XX");
  append_expiry(cmd, o.ttl, o.expire_at);
  if (o.keep_ttl) cmd.arg("KEEPTTL");
  return cmd;
}

inline Command& append(Command& cmd, const GetExOptions& o) {
  if (int(o.ttl.has_value()) + int(o.expire_at.has_value()) + int(o.persist) > 1)
    throw UsageError("GETEX: choose at most one of ttl, expire_at and persist");
  append_expiry(cmd, o.ttl, o.expire_at);
  if (o.persist) cmd.arg("PERSIST");
  return cmd;
}

inline Command& append(Command& cmd, ExpireCondition c) {
  switch (c) {
    case ExpireCondition::Always: break;
    case ExpireCondition::IfNoTtl: cmd.arg("NX"); break;
    case ExpireCondition::IfHasTtl: cmd.arg("XX"); break;
    case ExpireCondition::IfGreater: cmd.arg("GT"); break;
    case ExpireCondition::IfLess: cmd.arg("LT"); break;
  }
  return cmd;
}

inline Command& append(Command& cmd, const ZAddOptions& o) {
  if (o.condition == Condition::IfNotExists && o.update != ScoreUpdate::Always)
    throw UsageError("ZADD: NX cannot be combined with GT or LT");
  if (o.condition == Condition::IfNotExists) cmd.arg("NX");
  if (o.condition == Condition::IfExists) cmd.arg("XX");
  if (o.update == ScoreUpdate::IfGreater) cmd.arg("GT");
  if (o.update == ScoreUpdate::IfLess) cmd.arg("LT");
  if (o.changed) cmd.arg("CH");
  return cmd;
}

inline Command& append(Command& cmd, const ScanOptions& o, bool allow_type) {
  if (!o.match.empty()) cmd.arg("MATCH").arg(o.match);
  if (o.count != 0) cmd.arg("COUNT").arg(static_cast<unsigned long long>(o.count));
  if (!o.type.empty()) {
    if (!allow_type) throw UsageError("ScanOptions::type applies to SCAN only");
    cmd.arg("TYPE").arg(o.type);
  }
  return cmd;
}

inline Command& append(Command& cmd, const LposOptions& o) {
  if (o.rank) cmd.arg("RANK").arg(*o.rank);
  if (o.maxlen) cmd.arg("MAXLEN").arg(*o.maxlen);
  return cmd;
}

inline Command& append(Command& cmd, const std::optional<Limit>& limit) {
  if (limit) cmd.arg("LIMIT").arg(limit->offset).arg(limit->count);
  return cmd;
}

/// ZUNIONSTORE/ZINTERSTORE dst numkeys key... [WEIGHTS w...] [AGGREGATE a]
inline Command zstore(std::string_view name, std::string_view dst, const ArgList& keys,
                      const ZStoreOptions& o) {
  if (!o.weights.empty() && o.weights.size() != keys.size())
    throw UsageError(std::string(name) + ": one weight per source key");
  Command cmd{name, dst};
  cmd.arg(static_cast<unsigned long long>(keys.size())).args(keys);
  if (!o.weights.empty()) {
    cmd.arg("WEIGHTS");
    for (double w : o.weights) cmd.arg(w);
  }
  if (o.aggregate == Aggregate::Min) cmd.arg("AGGREGATE").arg("MIN");
  if (o.aggregate == Aggregate::Max) cmd.arg("AGGREGATE").arg("MAX");
  return cmd;
}

/// EVAL/EVALSHA script numkeys key... arg...
inline Command script_call(std::string_view name, std::string_view script, const ArgList& keys,
                           const ArgList& args) {
  Command cmd{name, script};
  cmd.arg(static_cast<unsigned long long>(keys.size())).args(keys).args(args);
  return cmd;
}

inline std::string_view end_name(ListEnd e) { return e == ListEnd::Left ? "LEFT" : "RIGHT"; }

}  // namespace detail
}  // namespace fibredis
