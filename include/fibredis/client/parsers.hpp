// Reply parsers: how each typed command turns its Reply into a C++ value.
//
// A parser is `struct X { using type = T; static T parse(Reply&& r); }`. Commands<Derived> names
// one per command and hands it to Derived::dispatch<Parser>: a client parses the reply at once, a
// pipeline may keep the parser's type for later. Every parser throws the errors.hpp exception that
// matches an error reply (ResponseError, ...) and ProtocolError on a reply of an unexpected shape.
// Array replies are consumed in place: strings are moved out of the Reply, never copied.
#pragma once

#include <fibredis/client/scan_iterator.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace fibredis {

/// What BZPOPMIN / BZPOPMAX return: the key popped from, the member and its score.
struct PoppedMember {
  std::string key;
  std::string member;
  double score = 0;
  bool operator==(const PoppedMember&) const = default;
};

/// One stream entry: its ID and its field/value pairs in insertion order.
struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
  bool operator==(const StreamEntry&) const = default;
};

namespace parse {
namespace detail {

inline void throw_if_error(const Reply& r) {
  if (r.is_error()) throw_reply_error(r.str());
}

[[noreturn]] inline void wrong_shape(std::string_view expected, const Reply& r) {
  throw ProtocolError("expected " + std::string(expected) + " reply, got " + r.to_string());
}

/// The elements of an array reply; a nil reply counts as empty when nil_is_empty.
inline std::vector<Reply>& array(Reply& r, std::string_view expected, bool nil_is_empty = true) {
  throw_if_error(r);
  if (r.is_nil() && nil_is_empty) r = Reply::array({});
  if (!r.is_array()) wrong_shape(expected, r);
  return r.elements();
}

/// Elements in pairs (flat RESP2 maps, WITHSCORES).
inline std::vector<Reply>& pairs(Reply& r, std::string_view expected) {
  auto& e = array(r, expected);
  if (e.size() % 2 != 0) wrong_shape(expected, r);
  return e;
}

inline std::string take_string(Reply& r) {
  if (r.is_string() || r.is_status()) return r.take_str();
  return r.as_string();  // throws the right error for anything else
}

inline std::optional<std::string> take_optional_string(Reply& r) {
  if (r.is_nil()) return std::nullopt;
  return take_string(r);
}

inline std::uint64_t cursor(const Reply& r) {
  std::uint64_t v = 0;
  std::string_view s = r.str();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!r.is_string() || ec != std::errc() || end != s.data() + s.size())
    wrong_shape("SCAN cursor", r);
  return v;
}

}  // namespace detail

/// The Reply itself (error replies still throw).
struct Raw {
  using type = Reply;
  static Reply parse(Reply&& r) { return std::move(r).value(); }
};

/// Any status reply ("OK", "QUEUED"...): nothing to return, but error replies throw.
struct Ok {
  using type = void;
  static void parse(Reply&& r) {
    detail::throw_if_error(r);
    if (!r.is_status()) detail::wrong_shape("status", r);
  }
};

struct String {
  using type = std::string;
  static std::string parse(Reply&& r) { return detail::take_string(r); }
};

struct OptionalString {
  using type = std::optional<std::string>;
  static type parse(Reply&& r) { return detail::take_optional_string(r); }
};

struct Integer {
  using type = long long;
  static long long parse(Reply&& r) { return r.as_integer(); }
};

struct OptionalInteger {
  using type = std::optional<long long>;
  static type parse(Reply&& r) { return r.as_optional_integer(); }
};

struct Double {
  using type = double;
  static double parse(Reply&& r) { return r.as_double(); }
};

struct OptionalDouble {
  using type = std::optional<double>;
  static type parse(Reply&& r) { return r.as_optional_double(); }
};

/// Integer 1/0, status OK (true) or nil (false): SETNX, EXPIRE, SET NX...
struct Bool {
  using type = bool;
  static bool parse(Reply&& r) { return r.as_bool(); }
};

/// A whole-unit duration from an integer reply (TTL in seconds, PTTL in milliseconds).
template <class D>
struct Duration {
  using type = D;
  static D parse(Reply&& r) { return D(r.as_integer()); }
};

/// An array of strings; nil (LPOP key count on a missing key) is empty.
struct StringVector {
  using type = std::vector<std::string>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.push_back(detail::take_string(x));
    return out;
  }
};

/// An array of strings or nils (MGET, HMGET).
struct OptionalStringVector {
  using type = std::vector<std::optional<std::string>>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.push_back(detail::take_optional_string(x));
    return out;
  }
};

/// An array of distinct strings (SMEMBERS, SINTER...).
struct StringSet {
  using type = std::unordered_set<std::string>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.insert(detail::take_string(x));
    return out;
  }
};

struct IntegerVector {
  using type = std::vector<long long>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.push_back(x.as_integer());
    return out;
  }
};

/// An array of 0/1 integers (SMISMEMBER, SCRIPT EXISTS).
struct BoolVector {
  using type = std::vector<bool>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.push_back(x.as_bool());
    return out;
  }
};

/// An array of scores or nils (ZMSCORE).
struct OptionalDoubleVector {
  using type = std::vector<std::optional<double>>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "array");
    type out;
    out.reserve(e.size());
    for (Reply& x : e) out.push_back(x.as_optional_double());
    return out;
  }
};

/// A flat field, value, field, value... array as ordered pairs (HRANDFIELD WITHVALUES).
struct StringPairs {
  using type = std::vector<std::pair<std::string, std::string>>;
  static type parse(Reply&& r) {
    auto& e = detail::pairs(r, "field/value array");
    type out;
    out.reserve(e.size() / 2);
    for (std::size_t i = 0; i < e.size(); i += 2)
      out.emplace_back(detail::take_string(e[i]), detail::take_string(e[i + 1]));
    return out;
  }
};

/// A flat field, value... array as a map (HGETALL).
struct StringMap {
  using type = std::unordered_map<std::string, std::string>;
  static type parse(Reply&& r) {
    auto& e = detail::pairs(r, "field/value array");
    type out;
    out.reserve(e.size() / 2);
    for (std::size_t i = 0; i < e.size(); i += 2)
      out.insert_or_assign(detail::take_string(e[i]), detail::take_string(e[i + 1]));
    return out;
  }
};

/// A flat member, score... array (WITHSCORES, ZPOPMIN count), in the server's order.
struct ScoredMembers {
  using type = std::vector<std::pair<std::string, double>>;
  static type parse(Reply&& r) {
    auto& e = detail::pairs(r, "member/score array");
    type out;
    out.reserve(e.size() / 2);
    for (std::size_t i = 0; i < e.size(); i += 2)
      out.emplace_back(detail::take_string(e[i]), e[i + 1].as_double());
    return out;
  }
};

/// [member, score] or an empty array (ZPOPMIN / ZPOPMAX without a count).
struct OptionalScoredMember {
  using type = std::optional<std::pair<std::string, double>>;
  static type parse(Reply&& r) {
    auto v = ScoredMembers::parse(std::move(r));
    if (v.empty()) return std::nullopt;
    return std::move(v.front());
  }
};

/// [key, value] or nil on timeout (BLPOP, BRPOP).
struct KeyValue {
  using type = std::optional<std::pair<std::string, std::string>>;
  static type parse(Reply&& r) {
    detail::throw_if_error(r);
    if (r.is_nil()) return std::nullopt;
    auto& e = detail::array(r, "[key, value]", false);
    if (e.size() != 2) detail::wrong_shape("[key, value]", r);
    return std::pair(detail::take_string(e[0]), detail::take_string(e[1]));
  }
};

/// [local, replicas] (WAITAOF): how many fsynced the writes locally (0 or 1) and on replicas.
struct IntegerPair {
  using type = std::pair<long long, long long>;
  static type parse(Reply&& r) {
    detail::throw_if_error(r);
    auto& e = detail::array(r, "[integer, integer]", false);
    if (e.size() != 2) detail::wrong_shape("[integer, integer]", r);
    return {e[0].as_integer(), e[1].as_integer()};
  }
};

/// [key, member, score] or nil on timeout (BZPOPMIN, BZPOPMAX).
struct KeyMemberScore {
  using type = std::optional<PoppedMember>;
  static type parse(Reply&& r) {
    detail::throw_if_error(r);
    if (r.is_nil()) return std::nullopt;
    auto& e = detail::array(r, "[key, member, score]", false);
    if (e.size() != 3) detail::wrong_shape("[key, member, score]", r);
    return PoppedMember{detail::take_string(e[0]), detail::take_string(e[1]), e[2].as_double()};
  }
};

/// [cursor, [items...]], the items parsed by Collect.
template <class Collect>
struct ScanOf {
  using type = ScanPage<typename Collect::type::value_type>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "[cursor, items]", false);
    if (e.size() != 2) detail::wrong_shape("[cursor, items]", r);
    type page;
    page.cursor = detail::cursor(e[0]);
    page.items = Collect::parse(std::move(e[1]));
    return page;
  }
};

/// SCAN, SSCAN: keys or members.
using Scan = ScanOf<StringVector>;
/// HSCAN: (field, value) pairs.
using HScan = ScanOf<StringPairs>;
/// ZSCAN: (member, score) pairs.
using ZScan = ScanOf<ScoredMembers>;

/// TIME: [unix seconds, microseconds] → a point in time with microsecond precision.
struct Time {
  using type = std::chrono::sys_time<std::chrono::microseconds>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "[seconds, microseconds]", false);
    if (e.size() != 2) detail::wrong_shape("[seconds, microseconds]", r);
    return type(std::chrono::seconds(e[0].as_integer()) +
                std::chrono::microseconds(e[1].as_integer()));
  }
};

/// XRANGE / XREVRANGE: [[id, [field, value...]]...].
struct StreamEntries {
  using type = std::vector<StreamEntry>;
  static type parse(Reply&& r) {
    auto& e = detail::array(r, "stream entries");
    type out;
    out.reserve(e.size());
    for (Reply& entry : e) {
      auto& parts = detail::array(entry, "[id, fields]", false);
      if (parts.size() != 2) detail::wrong_shape("[id, fields]", entry);
      out.push_back({detail::take_string(parts[0]), StringPairs::parse(std::move(parts[1]))});
    }
    return out;
  }
};

}  // namespace parse
}  // namespace fibredis
