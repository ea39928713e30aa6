// Commands<Derived>: the typed Redis commands, written once for Client, ClusterClient, Pipeline and
// ClusterPipeline (CRTP mixin).
//
// Each method builds one Command and hands it, with the parser that turns its reply into a C++
// value (client/parsers.hpp), to `Derived::dispatch<Parser>(Command&&)`:
//   - Client / ClusterClient send it and return `Parser::parse(reply)`. The call suspends only the
//     calling fiber, until the reply arrives or Options::command_timeout expires (TimeoutError); a
//     blocking command (BLPOP...) adds its own timeout to that deadline and runs on an exclusive
//     connection. A server error reply throws ResponseError (or its errors.hpp subclass),
//     connection failures throw ConnectionError.
//   - Pipeline / ClusterPipeline queue it and return `Derived&`, so calls chain.
// So every method returns `decltype(auto)`: a value for clients, a reference for pipelines.
//
// @code
//   c.set("k", "v", {.ttl = 10s, .condition = fibredis::Condition::IfNotExists});  // → bool
//   std::optional<std::string> v = c.get("k");
//   auto popped = c.brpop({"q1", "q2"}, 5s);    // optional<pair<key, value>>, nullopt after 5 s
//   p.set("a", "1").incr("b").get("a");          // on a pipeline: queued, executed later
// @endcode
//
// Nil replies map to std::optional; durations are std::chrono (sent as EX when whole seconds, PX
// otherwise; blocking timeouts as decimal seconds, zero = wait forever). Anything not here goes
// through command({"NAME", "arg", ...}), which returns the raw Reply.
#pragma once

#include <fibredis/client/command_options.hpp>
#include <fibredis/client/parsers.hpp>
#include <fibredis/client/scan_iterator.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/command_info.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fibredis {

template <class Derived>
class Commands {
  using ms = std::chrono::milliseconds;
  using seconds = std::chrono::seconds;
  using time_point = std::chrono::system_clock::time_point;
  using Str = std::string_view;

 public:
  // ---- generic -----------------------------------------------------------------------------

  /// Any command, e.g. command({"OBJECT", "ENCODING", "k"}): the raw Reply (error replies throw).
  /// Blocking commands (BLPOP, XREAD BLOCK, WAIT...) are recognised and given their timeout.
  decltype(auto) command(std::initializer_list<Str> args) { return command(Command(args)); }
  template <detail::StringRange R>
  decltype(auto) command(const R& args) {
    return command(Command(args));
  }
  decltype(auto) command(Command cmd) {
    if (!cmd.blocking) cmd.blocking = blocking_timeout(cmd);
    return call<parse::Raw>(std::move(cmd));
  }

  // ---- strings -----------------------------------------------------------------------------

  /// GET: nullopt when the key does not exist.
  decltype(auto) get(Str key) { return call<parse::OptionalString>(Command{"GET", key}); }
  /// SET: true when written, false when the NX/XX condition stopped it.
  decltype(auto) set(Str key, Str value, const SetOptions& o = {}) {
    Command cmd{"SET", key, value};
    return call<parse::Bool>(detail::append(cmd, o));
  }
  /// SET ... GET: the previous value (nullopt if none); NX together with GET needs Redis 7.0.
  decltype(auto) set_get(Str key, Str value, const SetOptions& o = {}) {
    Command cmd{"SET", key, value};
    return call<parse::OptionalString>(detail::append(cmd, o).arg("GET"));
  }
  decltype(auto) setnx(Str key, Str value) {
    return call<parse::Bool>(Command{"SETNX", key, value});
  }
  decltype(auto) setex(Str key, seconds ttl, Str value) {
    return call<parse::Ok>(Command{"SETEX", key}.arg(ttl.count()).arg(value));
  }
  decltype(auto) psetex(Str key, ms ttl, Str value) {
    return call<parse::Ok>(Command{"PSETEX", key}.arg(ttl.count()).arg(value));
  }
  decltype(auto) getset(Str key, Str value) {
    return call<parse::OptionalString>(Command{"GETSET", key, value});
  }
  decltype(auto) getdel(Str key) { return call<parse::OptionalString>(Command{"GETDEL", key}); }
  /// GETEX: GET that also sets (or with persist, clears) the time to live.
  decltype(auto) getex(Str key, const GetExOptions& o = {}) {
    Command cmd{"GETEX", key};
    return call<parse::OptionalString>(detail::append(cmd, o));
  }
  decltype(auto) mget(const ArgList& keys) {
    return call<parse::OptionalStringVector>(Command{"MGET"}.args(keys));
  }
  decltype(auto) mset(const PairList<Str>& kvs) { return call<parse::Ok>(pairs_cmd("MSET", kvs)); }
  /// MSETNX: true if all were set, false (none set) if any key existed.
  decltype(auto) msetnx(const PairList<Str>& kvs) {
    return call<parse::Bool>(pairs_cmd("MSETNX", kvs));
  }
  decltype(auto) incr(Str key) { return call<parse::Integer>(Command{"INCR", key}); }
  decltype(auto) incrby(Str key, long long n) {
    return call<parse::Integer>(Command{"INCRBY", key}.arg(n));
  }
  decltype(auto) incrbyfloat(Str key, double n) {
    return call<parse::Double>(Command{"INCRBYFLOAT", key}.arg(n));
  }
  decltype(auto) decr(Str key) { return call<parse::Integer>(Command{"DECR", key}); }
  decltype(auto) decrby(Str key, long long n) {
    return call<parse::Integer>(Command{"DECRBY", key}.arg(n));
  }
  /// APPEND: the new length.
  decltype(auto) append(Str key, Str value) {
    return call<parse::Integer>(Command{"APPEND", key, value});
  }
  decltype(auto) strlen(Str key) { return call<parse::Integer>(Command{"STRLEN", key}); }
  /// GETRANGE: bytes start..end inclusive; negative offsets count from the end.
  decltype(auto) getrange(Str key, long long start, long long end) {
    return call<parse::String>(Command{"GETRANGE", key}.arg(start).arg(end));
  }
  decltype(auto) setrange(Str key, long long offset, Str value) {
    return call<parse::Integer>(Command{"SETRANGE", key}.arg(offset).arg(value));
  }

  // ---- keys --------------------------------------------------------------------------------

  /// DEL / UNLINK / EXISTS / TOUCH: how many of the keys were removed / exist / were touched.
  decltype(auto) del(const ArgList& keys) {
    return call<parse::Integer>(Command{"DEL"}.args(keys));
  }
  decltype(auto) unlink(const ArgList& keys) {
    return call<parse::Integer>(Command{"UNLINK"}.args(keys));
  }
  decltype(auto) exists(const ArgList& keys) {
    return call<parse::Integer>(Command{"EXISTS"}.args(keys));
  }
  decltype(auto) touch(const ArgList& keys) {
    return call<parse::Integer>(Command{"TOUCH"}.args(keys));
  }
  /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT: false if the key does not exist or the condition
  /// stopped it.
  decltype(auto) expire(Str key, seconds ttl, ExpireCondition c = ExpireCondition::Always) {
    Command cmd{"EXPIRE", key};
    return call<parse::Bool>(detail::append(cmd.arg(ttl.count()), c));
  }
  decltype(auto) pexpire(Str key, ms ttl, ExpireCondition c = ExpireCondition::Always) {
    Command cmd{"PEXPIRE", key};
    return call<parse::Bool>(detail::append(cmd.arg(ttl.count()), c));
  }
  decltype(auto) expireat(Str key, time_point at, ExpireCondition c = ExpireCondition::Always) {
    Command cmd{"EXPIREAT", key};
    cmd.arg(std::chrono::duration_cast<seconds>(at.time_since_epoch()).count());
    return call<parse::Bool>(detail::append(cmd, c));
  }
  decltype(auto) pexpireat(Str key, time_point at, ExpireCondition c = ExpireCondition::Always) {
    Command cmd{"PEXPIREAT", key};
    cmd.arg(std::chrono::duration_cast<ms>(at.time_since_epoch()).count());
    return call<parse::Bool>(detail::append(cmd, c));
  }
  /// PERSIST: true if a time to live was removed.
  decltype(auto) persist(Str key) { return call<parse::Bool>(Command{"PERSIST", key}); }
  /// TTL / PTTL: the remaining time to live; -1 if the key has none, -2 if it does not exist.
  decltype(auto) ttl(Str key) { return call<parse::Duration<seconds>>(Command{"TTL", key}); }
  decltype(auto) pttl(Str key) { return call<parse::Duration<ms>>(Command{"PTTL", key}); }
  /// TYPE: "string", "list", "set", "zset", "hash", "stream", or "none".
  decltype(auto) type(Str key) { return call<parse::String>(Command{"TYPE", key}); }
  decltype(auto) rename(Str key, Str new_key) {
    return call<parse::Ok>(Command{"RENAME", key, new_key});
  }
  /// RENAMENX: false if new_key already exists.
  decltype(auto) renamenx(Str key, Str new_key) {
    return call<parse::Bool>(Command{"RENAMENX", key, new_key});
  }
  /// KEYS: every matching key at once, blocking the server while it runs; prefer scan_iter.
  decltype(auto) keys(Str pattern = "*") {
    return call<parse::StringVector>(Command{"KEYS", pattern});
  }
  decltype(auto) randomkey() { return call<parse::OptionalString>(Command{"RANDOMKEY"}); }
  /// DUMP: the value in Redis' serialization format (binary), for RESTORE.
  decltype(auto) dump(Str key) { return call<parse::OptionalString>(Command{"DUMP", key}); }
  /// RESTORE: ttl zero = no expiry; replace overwrites an existing key (else BUSYKEY error).
  decltype(auto) restore(Str key, ms ttl, Str serialized, bool replace = false) {
    Command cmd{"RESTORE", key};
    cmd.arg(ttl.count()).arg(serialized);
    if (replace) cmd.arg("REPLACE");
    return call<parse::Ok>(std::move(cmd));
  }
  /// SCAN: one page of keys from `cursor` (start at 0; the page's cursor is 0 at the end).
  decltype(auto) scan(std::uint64_t cursor, const ScanOptions& o = {}) {
    Command cmd{"SCAN"};
    return call<parse::Scan>(detail::append(cmd.arg(cursor), o, true));
  }
  /// Every key matching `o`, fetched page by page as the loop advances (client/scan_iterator.hpp).
  ScanRange<std::string> scan_iter(ScanOptions o = {}) {
    return ScanRange<std::string>(
        [self = &derived(), o = std::move(o)](std::uint64_t cursor) {
          return self->scan(cursor, o);
        });
  }
  ScanRange<std::string> scan_iter(Str match, std::size_t count = 0, Str type = {}) {
    return scan_iter(ScanOptions{std::string(match), count, std::string(type)});
  }

  // ---- lists -------------------------------------------------------------------------------

  /// LPUSH / RPUSH / LPUSHX / RPUSHX: the list's new length (0 for the X forms on a missing key).
  decltype(auto) lpush(Str key, const ArgList& values) { return push("LPUSH", key, values); }
  decltype(auto) rpush(Str key, const ArgList& values) { return push("RPUSH", key, values); }
  decltype(auto) lpushx(Str key, const ArgList& values) { return push("LPUSHX", key, values); }
  decltype(auto) rpushx(Str key, const ArgList& values) { return push("RPUSHX", key, values); }
  decltype(auto) lpop(Str key) { return call<parse::OptionalString>(Command{"LPOP", key}); }
  /// LPOP / RPOP key count: up to count elements; empty if the key does not exist.
  decltype(auto) lpop(Str key, std::size_t count) {
    return call<parse::StringVector>(Command{"LPOP", key}.arg(count));
  }
  decltype(auto) rpop(Str key) { return call<parse::OptionalString>(Command{"RPOP", key}); }
  decltype(auto) rpop(Str key, std::size_t count) {
    return call<parse::StringVector>(Command{"RPOP", key}.arg(count));
  }
  decltype(auto) llen(Str key) { return call<parse::Integer>(Command{"LLEN", key}); }
  /// LRANGE: elements start..stop inclusive; negative indexes count from the end (0, -1 = all).
  decltype(auto) lrange(Str key, long long start, long long stop) {
    return call<parse::StringVector>(Command{"LRANGE", key}.arg(start).arg(stop));
  }
  decltype(auto) lindex(Str key, long long index) {
    return call<parse::OptionalString>(Command{"LINDEX", key}.arg(index));
  }
  decltype(auto) lset(Str key, long long index, Str value) {
    return call<parse::Ok>(Command{"LSET", key}.arg(index).arg(value));
  }
  /// LREM: removes count occurrences (from the head if > 0, the tail if < 0, all if 0).
  decltype(auto) lrem(Str key, long long count, Str value) {
    return call<parse::Integer>(Command{"LREM", key}.arg(count).arg(value));
  }
  decltype(auto) ltrim(Str key, long long start, long long stop) {
    return call<parse::Ok>(Command{"LTRIM", key}.arg(start).arg(stop));
  }
  /// LINSERT: the new length, -1 if the pivot was not found, 0 if the key does not exist.
  decltype(auto) linsert(Str key, InsertPosition where, Str pivot, Str value) {
    Str w = where == InsertPosition::Before ? "BEFORE" : "AFTER";
    return call<parse::Integer>(Command{"LINSERT", key, w, pivot, value});
  }
  /// LPOS: the index of the first match (per o.rank), nullopt if none.
  decltype(auto) lpos(Str key, Str element, const LposOptions& o = {}) {
    Command cmd{"LPOS", key, element};
    return call<parse::OptionalInteger>(detail::append(cmd, o));
  }
  /// LPOS ... COUNT count: the indexes of up to count matches (0 = all).
  decltype(auto) lpos(Str key, Str element, std::size_t count, const LposOptions& o = {}) {
    Command cmd{"LPOS", key, element};
    return call<parse::IntegerVector>(detail::append(cmd, o).arg("COUNT").arg(count));
  }
  /// LMOVE: pops from one end of src, pushes to one end of dst; nullopt if src is empty.
  decltype(auto) lmove(Str src, Str dst, ListEnd from, ListEnd to) {
    return call<parse::OptionalString>(
        Command{"LMOVE", src, dst, detail::end_name(from), detail::end_name(to)});
  }
  decltype(auto) rpoplpush(Str src, Str dst) {
    return call<parse::OptionalString>(Command{"RPOPLPUSH", src, dst});
  }
  /// BLPOP / BRPOP: (key, element) from the first non-empty list, waiting up to `timeout` (zero =
  /// forever) for one to get data; nullopt on timeout.
  decltype(auto) blpop(const ArgList& keys, ms timeout) { return bpop("BLPOP", keys, timeout); }
  decltype(auto) brpop(const ArgList& keys, ms timeout) { return bpop("BRPOP", keys, timeout); }
  /// BLMOVE / BRPOPLPUSH: LMOVE / RPOPLPUSH that wait up to `timeout` for src to get data.
  decltype(auto) blmove(Str src, Str dst, ListEnd from, ListEnd to, ms timeout) {
    Command cmd{"BLMOVE", src, dst, detail::end_name(from), detail::end_name(to)};
    return call<parse::OptionalString>(detail::blocking(cmd, timeout));
  }
  decltype(auto) brpoplpush(Str src, Str dst, ms timeout) {
    Command cmd{"BRPOPLPUSH", src, dst};
    return call<parse::OptionalString>(detail::blocking(cmd, timeout));
  }

  // ---- hashes ------------------------------------------------------------------------------

  /// HSET: how many fields were added (not counting updated ones).
  decltype(auto) hset(Str key, Str field, Str value) {
    return call<parse::Integer>(Command{"HSET", key, field, value});
  }
  decltype(auto) hset(Str key, const PairList<Str>& fields) {
    Command cmd{"HSET", key};
    for (const auto& [f, v] : fields) cmd.arg(f).arg(v);
    return call<parse::Integer>(std::move(cmd));
  }
  decltype(auto) hsetnx(Str key, Str field, Str value) {
    return call<parse::Bool>(Command{"HSETNX", key, field, value});
  }
  decltype(auto) hget(Str key, Str field) {
    return call<parse::OptionalString>(Command{"HGET", key, field});
  }
  decltype(auto) hmget(Str key, const ArgList& fields) {
    return call<parse::OptionalStringVector>(Command{"HMGET", key}.args(fields));
  }
  /// HGETALL: field → value; empty if the key does not exist.
  decltype(auto) hgetall(Str key) { return call<parse::StringMap>(Command{"HGETALL", key}); }
  decltype(auto) hdel(Str key, const ArgList& fields) {
    return call<parse::Integer>(Command{"HDEL", key}.args(fields));
  }
  decltype(auto) hexists(Str key, Str field) {
    return call<parse::Bool>(Command{"HEXISTS", key, field});
  }
  decltype(auto) hincrby(Str key, Str field, long long n) {
    return call<parse::Integer>(Command{"HINCRBY", key, field}.arg(n));
  }
  decltype(auto) hincrbyfloat(Str key, Str field, double n) {
    return call<parse::Double>(Command{"HINCRBYFLOAT", key, field}.arg(n));
  }
  decltype(auto) hkeys(Str key) { return call<parse::StringVector>(Command{"HKEYS", key}); }
  decltype(auto) hvals(Str key) { return call<parse::StringVector>(Command{"HVALS", key}); }
  decltype(auto) hlen(Str key) { return call<parse::Integer>(Command{"HLEN", key}); }
  decltype(auto) hstrlen(Str key, Str field) {
    return call<parse::Integer>(Command{"HSTRLEN", key, field});
  }
  /// HRANDFIELD: a random field, nullopt if the key does not exist.
  decltype(auto) hrandfield(Str key) {
    return call<parse::OptionalString>(Command{"HRANDFIELD", key});
  }
  /// HRANDFIELD key count: distinct fields if count > 0, possibly repeated if count < 0.
  decltype(auto) hrandfield(Str key, long long count) {
    return call<parse::StringVector>(Command{"HRANDFIELD", key}.arg(count));
  }
  decltype(auto) hrandfield_withvalues(Str key, long long count) {
    return call<parse::StringPairs>(Command{"HRANDFIELD", key}.arg(count).arg("WITHVALUES"));
  }
  decltype(auto) hscan(Str key, std::uint64_t cursor, const ScanOptions& o = {}) {
    Command cmd{"HSCAN", key};
    return call<parse::HScan>(detail::append(cmd.arg(cursor), o, false));
  }
  /// Every (field, value) of the hash, page by page.
  ScanRange<std::pair<std::string, std::string>> hscan_iter(Str key, ScanOptions o = {}) {
    return ScanRange<std::pair<std::string, std::string>>(
        [self = &derived(), k = std::string(key), o = std::move(o)](std::uint64_t cursor) {
          return self->hscan(k, cursor, o);
        });
  }

  // ---- sets --------------------------------------------------------------------------------

  /// SADD / SREM: how many members were added / removed.
  decltype(auto) sadd(Str key, const ArgList& members) {
    return call<parse::Integer>(Command{"SADD", key}.args(members));
  }
  decltype(auto) srem(Str key, const ArgList& members) {
    return call<parse::Integer>(Command{"SREM", key}.args(members));
  }
  decltype(auto) smembers(Str key) { return call<parse::StringSet>(Command{"SMEMBERS", key}); }
  decltype(auto) sismember(Str key, Str member) {
    return call<parse::Bool>(Command{"SISMEMBER", key, member});
  }
  /// SMISMEMBER: one bool per member, in order.
  decltype(auto) smismember(Str key, const ArgList& members) {
    return call<parse::BoolVector>(Command{"SMISMEMBER", key}.args(members));
  }
  decltype(auto) scard(Str key) { return call<parse::Integer>(Command{"SCARD", key}); }
  decltype(auto) spop(Str key) { return call<parse::OptionalString>(Command{"SPOP", key}); }
  decltype(auto) spop(Str key, std::size_t count) {
    return call<parse::StringVector>(Command{"SPOP", key}.arg(count));
  }
  decltype(auto) srandmember(Str key) {
    return call<parse::OptionalString>(Command{"SRANDMEMBER", key});
  }
  /// SRANDMEMBER key count: distinct members if count > 0, possibly repeated if count < 0.
  decltype(auto) srandmember(Str key, long long count) {
    return call<parse::StringVector>(Command{"SRANDMEMBER", key}.arg(count));
  }
  /// SMOVE: false if member was not in src.
  decltype(auto) smove(Str src, Str dst, Str member) {
    return call<parse::Bool>(Command{"SMOVE", src, dst, member});
  }
  decltype(auto) sdiff(const ArgList& keys) {
    return call<parse::StringSet>(Command{"SDIFF"}.args(keys));
  }
  decltype(auto) sinter(const ArgList& keys) {
    return call<parse::StringSet>(Command{"SINTER"}.args(keys));
  }
  decltype(auto) sunion(const ArgList& keys) {
    return call<parse::StringSet>(Command{"SUNION"}.args(keys));
  }
  /// SDIFFSTORE / SINTERSTORE / SUNIONSTORE: the size of the set stored at dst.
  decltype(auto) sdiffstore(Str dst, const ArgList& keys) {
    return call<parse::Integer>(Command{"SDIFFSTORE", dst}.args(keys));
  }
  decltype(auto) sinterstore(Str dst, const ArgList& keys) {
    return call<parse::Integer>(Command{"SINTERSTORE", dst}.args(keys));
  }
  decltype(auto) sunionstore(Str dst, const ArgList& keys) {
    return call<parse::Integer>(Command{"SUNIONSTORE", dst}.args(keys));
  }
  decltype(auto) sscan(Str key, std::uint64_t cursor, const ScanOptions& o = {}) {
    Command cmd{"SSCAN", key};
    return call<parse::Scan>(detail::append(cmd.arg(cursor), o, false));
  }
  ScanRange<std::string> sscan_iter(Str key, ScanOptions o = {}) {
    return ScanRange<std::string>(
        [self = &derived(), k = std::string(key), o = std::move(o)](std::uint64_t cursor) {
          return self->sscan(k, cursor, o);
        });
  }

  // ---- sorted sets -------------------------------------------------------------------------

  /// ZADD: how many members were added (with o.changed: added or updated).
  decltype(auto) zadd(Str key, Str member, double score, const ZAddOptions& o = {}) {
    Command cmd{"ZADD", key};
    return call<parse::Integer>(detail::append(cmd, o).arg(score).arg(member));
  }
  decltype(auto) zadd(Str key, const PairList<double>& members, const ZAddOptions& o = {}) {
    Command cmd{"ZADD", key};
    detail::append(cmd, o);
    for (const auto& [m, s] : members) cmd.arg(s).arg(m);
    return call<parse::Integer>(std::move(cmd));
  }
  /// ZINCRBY: the member's new score.
  decltype(auto) zincrby(Str key, double increment, Str member) {
    return call<parse::Double>(Command{"ZINCRBY", key}.arg(increment).arg(member));
  }
  decltype(auto) zrem(Str key, const ArgList& members) {
    return call<parse::Integer>(Command{"ZREM", key}.args(members));
  }
  decltype(auto) zscore(Str key, Str member) {
    return call<parse::OptionalDouble>(Command{"ZSCORE", key, member});
  }
  decltype(auto) zmscore(Str key, const ArgList& members) {
    return call<parse::OptionalDoubleVector>(Command{"ZMSCORE", key}.args(members));
  }
  /// ZRANK / ZREVRANK: 0-based rank by ascending / descending score, nullopt if not a member.
  decltype(auto) zrank(Str key, Str member) {
    return call<parse::OptionalInteger>(Command{"ZRANK", key, member});
  }
  decltype(auto) zrevrank(Str key, Str member) {
    return call<parse::OptionalInteger>(Command{"ZREVRANK", key, member});
  }
  decltype(auto) zcard(Str key) { return call<parse::Integer>(Command{"ZCARD", key}); }
  /// ZCOUNT: members with min <= score <= max (ScoreBound::exclusive / "-inf" for other bounds).
  decltype(auto) zcount(Str key, const ScoreBound& min, const ScoreBound& max) {
    return call<parse::Integer>(Command{"ZCOUNT", key, min.text(), max.text()});
  }
  /// ZRANGE / ZREVRANGE by rank, start..stop inclusive (0, -1 = all).
  decltype(auto) zrange(Str key, long long start, long long stop) {
    return call<parse::StringVector>(Command{"ZRANGE", key}.arg(start).arg(stop));
  }
  decltype(auto) zrange_withscores(Str key, long long start, long long stop) {
    return call<parse::ScoredMembers>(
        Command{"ZRANGE", key}.arg(start).arg(stop).arg("WITHSCORES"));
  }
  decltype(auto) zrevrange(Str key, long long start, long long stop) {
    return call<parse::StringVector>(Command{"ZREVRANGE", key}.arg(start).arg(stop));
  }
  decltype(auto) zrevrange_withscores(Str key, long long start, long long stop) {
    return call<parse::ScoredMembers>(
        Command{"ZREVRANGE", key}.arg(start).arg(stop).arg("WITHSCORES"));
  }
  /// ZRANGEBYSCORE: members with min <= score <= max, ascending, optionally LIMIT offset count.
  decltype(auto) zrangebyscore(Str key, const ScoreBound& min, const ScoreBound& max,
                               const std::optional<Limit>& limit = std::nullopt) {
    Command cmd{"ZRANGEBYSCORE", key, min.text(), max.text()};
    return call<parse::StringVector>(detail::append(cmd, limit));
  }
  decltype(auto) zrangebyscore_withscores(Str key, const ScoreBound& min, const ScoreBound& max,
                                          const std::optional<Limit>& limit = std::nullopt) {
    Command cmd{"ZRANGEBYSCORE", key, min.text(), max.text(), "WITHSCORES"};
    return call<parse::ScoredMembers>(detail::append(cmd, limit));
  }
  /// ZREVRANGEBYSCORE: descending, so max comes first (as in Redis).
  decltype(auto) zrevrangebyscore(Str key, const ScoreBound& max, const ScoreBound& min,
                                  const std::optional<Limit>& limit = std::nullopt) {
    Command cmd{"ZREVRANGEBYSCORE", key, max.text(), min.text()};
    return call<parse::StringVector>(detail::append(cmd, limit));
  }
  decltype(auto) zremrangebyrank(Str key, long long start, long long stop) {
    return call<parse::Integer>(Command{"ZREMRANGEBYRANK", key}.arg(start).arg(stop));
  }
  decltype(auto) zremrangebyscore(Str key, const ScoreBound& min, const ScoreBound& max) {
    return call<parse::Integer>(Command{"ZREMRANGEBYSCORE", key, min.text(), max.text()});
  }
  /// ZPOPMIN / ZPOPMAX: the lowest / highest (member, score), nullopt if the set is empty.
  decltype(auto) zpopmin(Str key) {
    return call<parse::OptionalScoredMember>(Command{"ZPOPMIN", key});
  }
  decltype(auto) zpopmin(Str key, std::size_t count) {
    return call<parse::ScoredMembers>(Command{"ZPOPMIN", key}.arg(count));
  }
  decltype(auto) zpopmax(Str key) {
    return call<parse::OptionalScoredMember>(Command{"ZPOPMAX", key});
  }
  decltype(auto) zpopmax(Str key, std::size_t count) {
    return call<parse::ScoredMembers>(Command{"ZPOPMAX", key}.arg(count));
  }
  /// BZPOPMIN / BZPOPMAX: pop from the first non-empty set, waiting up to `timeout` (zero =
  /// forever); nullopt on timeout.
  decltype(auto) bzpopmin(const ArgList& keys, ms timeout) {
    Command cmd{"BZPOPMIN"};
    return call<parse::KeyMemberScore>(detail::blocking(cmd.args(keys), timeout));
  }
  decltype(auto) bzpopmax(const ArgList& keys, ms timeout) {
    Command cmd{"BZPOPMAX"};
    return call<parse::KeyMemberScore>(detail::blocking(cmd.args(keys), timeout));
  }
  /// ZUNIONSTORE / ZINTERSTORE: the size of the set stored at dst.
  decltype(auto) zunionstore(Str dst, const ArgList& keys, const ZStoreOptions& o = {}) {
    return call<parse::Integer>(detail::zstore("ZUNIONSTORE", dst, keys, o));
  }
  decltype(auto) zinterstore(Str dst, const ArgList& keys, const ZStoreOptions& o = {}) {
    return call<parse::Integer>(detail::zstore("ZINTERSTORE", dst, keys, o));
  }
  decltype(auto) zscan(Str key, std::uint64_t cursor, const ScanOptions& o = {}) {
    Command cmd{"ZSCAN", key};
    return call<parse::ZScan>(detail::append(cmd.arg(cursor), o, false));
  }
  ScanRange<std::pair<std::string, double>> zscan_iter(Str key, ScanOptions o = {}) {
    return ScanRange<std::pair<std::string, double>>(
        [self = &derived(), k = std::string(key), o = std::move(o)](std::uint64_t cursor) {
          return self->zscan(k, cursor, o);
        });
  }

  // ---- scripting ---------------------------------------------------------------------------

  /// EVAL / EVALSHA: the script's raw Reply; a script error throws ResponseError.
  decltype(auto) eval(Str script, const ArgList& keys = {}, const ArgList& args = {}) {
    return call<parse::Raw>(detail::script_call("EVAL", script, keys, args));
  }
  decltype(auto) evalsha(Str sha1, const ArgList& keys = {}, const ArgList& args = {}) {
    return call<parse::Raw>(detail::script_call("EVALSHA", sha1, keys, args));
  }
  /// SCRIPT LOAD: the script's SHA1 for evalsha.
  decltype(auto) script_load(Str script) {
    return call<parse::String>(Command{"SCRIPT", "LOAD", script});
  }
  decltype(auto) script_exists(const ArgList& sha1s) {
    return call<parse::BoolVector>(Command{"SCRIPT", "EXISTS"}.args(sha1s));
  }
  decltype(auto) script_flush() { return call<parse::Ok>(Command{"SCRIPT", "FLUSH"}); }

  // ---- server ------------------------------------------------------------------------------

  /// PING: "PONG", or the message echoed.
  decltype(auto) ping() { return call<parse::String>(Command{"PING"}); }
  decltype(auto) ping(Str message) { return call<parse::String>(Command{"PING", message}); }
  decltype(auto) echo(Str message) { return call<parse::String>(Command{"ECHO", message}); }
  /// INFO: the report text ("# Server\r\nredis_version:7.0.11\r\n..."); empty section = default.
  decltype(auto) info(Str section = {}) {
    Command cmd{"INFO"};
    if (!section.empty()) cmd.arg(section);
    return call<parse::String>(std::move(cmd));
  }
  decltype(auto) dbsize() { return call<parse::Integer>(Command{"DBSIZE"}); }
  /// FLUSHDB / FLUSHALL: async frees memory in the background (ASYNC) instead of before replying.
  decltype(auto) flushdb(bool async = false) {
    return call<parse::Ok>(async ? Command{"FLUSHDB", "ASYNC"} : Command{"FLUSHDB"});
  }
  decltype(auto) flushall(bool async = false) {
    return call<parse::Ok>(async ? Command{"FLUSHALL", "ASYNC"} : Command{"FLUSHALL"});
  }
  /// WAIT: how many replicas acknowledged the writes queued before it, waiting up to `timeout`
  /// (positive) for `numreplicas` of them. Only at the end of a pipeline or transaction, which
  /// then runs on one exclusive connection (client/wait_batch.hpp); a lone call (client.wait())
  /// throws UsageError, because its count would cover writes of some other connection.
  decltype(auto) wait(long long numreplicas, ms timeout) {
    return call<parse::Integer>(detail::wait_cmd(Command{"WAIT"}.arg(numreplicas), timeout));
  }
  /// WAITAOF (Redis 7.2): (local fsyncs 0/1, replicas that fsynced) for the writes queued before
  /// it; same rules as wait().
  decltype(auto) waitaof(long long numlocal, long long numreplicas, ms timeout) {
    Command cmd{"WAITAOF"};
    return call<parse::IntegerPair>(detail::wait_cmd(cmd.arg(numlocal).arg(numreplicas), timeout));
  }
  /// TIME: the server's clock, microsecond precision.
  decltype(auto) time() { return call<parse::Time>(Command{"TIME"}); }

  // ---- pub/sub, HyperLogLog ----------------------------------------------------------------

  /// PUBLISH: how many subscribers received the message (in a cluster: on the node that took it).
  decltype(auto) publish(Str channel, Str message) {
    return call<parse::Integer>(Command{"PUBLISH", channel, message});
  }
  /// SPUBLISH (Redis 7): a shard channel's message; how many subscribers of its shard got it.
  decltype(auto) spublish(Str channel, Str message) {
    return call<parse::Integer>(Command{"SPUBLISH", channel, message});
  }
  /// PFADD: true if the estimate changed.
  decltype(auto) pfadd(Str key, const ArgList& elements) {
    return call<parse::Bool>(Command{"PFADD", key}.args(elements));
  }
  decltype(auto) pfcount(const ArgList& keys) {
    return call<parse::Integer>(Command{"PFCOUNT"}.args(keys));
  }
  decltype(auto) pfmerge(Str dst, const ArgList& sources) {
    return call<parse::Ok>(Command{"PFMERGE", dst}.args(sources));
  }

  // ---- streams -----------------------------------------------------------------------------

  /// XADD: the new entry's ID.
  decltype(auto) xadd(Str key, const PairList<Str>& fields, const XAddOptions& o = {}) {
    Command cmd{"XADD", key};
    if (o.maxlen) cmd.arg("MAXLEN").arg(o.approximate ? "~" : "=").arg(*o.maxlen);
    cmd.arg(o.id);
    for (const auto& [f, v] : fields) cmd.arg(f).arg(v);
    return call<parse::String>(std::move(cmd));
  }
  decltype(auto) xlen(Str key) { return call<parse::Integer>(Command{"XLEN", key}); }
  /// XRANGE: entries with start <= ID <= end ("-" and "+" are the extremes), oldest first.
  decltype(auto) xrange(Str key, Str start = "-", Str end = "+",
                        std::optional<std::size_t> count = std::nullopt) {
    Command cmd{"XRANGE", key, start, end};
    if (count) cmd.arg("COUNT").arg(*count);
    return call<parse::StreamEntries>(std::move(cmd));
  }
  /// XREVRANGE: newest first, so end comes before start (as in Redis).
  decltype(auto) xrevrange(Str key, Str end = "+", Str start = "-",
                           std::optional<std::size_t> count = std::nullopt) {
    Command cmd{"XREVRANGE", key, end, start};
    if (count) cmd.arg("COUNT").arg(*count);
    return call<parse::StreamEntries>(std::move(cmd));
  }
  decltype(auto) xdel(Str key, const ArgList& ids) {
    return call<parse::Integer>(Command{"XDEL", key}.args(ids));
  }
  /// XTRIM MAXLEN: how many entries were removed.
  decltype(auto) xtrim(Str key, long long maxlen, bool approximate = false) {
    return call<parse::Integer>(
        Command{"XTRIM", key, "MAXLEN", approximate ? "~" : "="}.arg(maxlen));
  }

 protected:
  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

  /// The one point where a command leaves the mixin.
  template <class Parser>
  decltype(auto) call(Command&& cmd) {
    return derived().template dispatch<Parser>(std::move(cmd));
  }
  /// Builder chains (`Command{...}.arg(x)`) yield Command&; the command is consumed all the same.
  template <class Parser>
  decltype(auto) call(Command& cmd) {
    return call<Parser>(std::move(cmd));
  }

 private:
  decltype(auto) push(Str name, Str key, const ArgList& values) {
    return call<parse::Integer>(Command{name, key}.args(values));
  }
  decltype(auto) bpop(Str name, const ArgList& keys, ms timeout) {
    Command cmd{name};
    return call<parse::KeyValue>(detail::blocking(cmd.args(keys), timeout));
  }
  static Command pairs_cmd(Str name, const PairList<Str>& kvs) {
    Command cmd{name};
    for (const auto& [k, v] : kvs) cmd.arg(k).arg(v);
    return cmd;
  }
};

}  // namespace fibredis
