// NonAtomicCommands<Derived>: client-side versions of the multi-key commands a cluster refuses
// when their keys live in different slots (redis-py-cluster's "_nonatomic" family), a CRTP mixin
// of ClusterClient.
//
// @code
//   rc.rename_nonatomic("user:1", "archive:user:1");        // DUMP/PTTL → RESTORE → DEL
//   auto common = rc.sinter_nonatomic({"tags:a", "tags:b"}); // SMEMBERS of each, intersected here
//   rc.zunionstore_nonatomic("top", {"z1", "z2"}, {.weights = {1, 2}});
// @endcode
//
// NOT ATOMIC. Each helper is a short sequence of ordinary commands (written next to each one):
// reads first, then writes, each of them atomic on its own node and nothing holding the others
// together. What that means for everybody else is spelled out per helper; in general a concurrent
// reader may see the destination deleted, half written or both source and destination present,
// and a concurrent writer's change that lands between our read and our write is overwritten or
// lost without an error. If the calling fiber fails (or the process dies) half-way, the work done
// so far stays done: nothing is rolled back. Use these only for keys nobody else writes at the
// time (migrations, batch jobs), or put the keys in one slot with a common {hash tag}: when every
// key of a call hashes to one slot, the helper sends the native, atomic command instead.
//
// Every helper suspends the calling fiber only; each of the commands it sends has the client's
// own deadline (command_timeout) and its own redirect budget, so a helper of n steps may take up
// to n deadlines. Errors are those of the commands (errors.hpp): server errors as ResponseError
// (WRONGTYPE, ...), ConnectionError, TimeoutError, cluster errors. Reads of several keys run
// concurrently, one fiber per key, so a helper costs about one round trip per step, not per key.
//
// Derived must offer ClusterClient's public API: the typed commands of Commands<Derived>,
// execute(const Command&) → Reply (error replies returned, not thrown) and mset_nonatomic().
#pragma once

#include <fibredis/client/command_options.hpp>
#include <fibredis/client/parsers.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/concurrently.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace fibredis {

/// SORT's options for sort_nonatomic (SORT key [BY pattern] [LIMIT offset count] [GET pattern...]
/// [ASC|DESC] [ALPHA]). Redis 7.0 in cluster mode refuses GET and any BY pattern with a '*'
/// ("... option of SORT denied in Cluster mode"); BY without '*' (e.g. "nosort") is accepted.
struct SortOptions {
  /// BY pattern: sort by the values of other keys ("weight_*", "nosort"); empty = by the elements.
  std::string by{};
  std::optional<Limit> limit{};
  /// GET patterns, in order; each yields one output element per sorted element (nil → "").
  std::vector<std::string> get{};
  bool descending = false;
  /// ALPHA: compare as strings instead of numbers.
  bool alpha = false;
};

namespace nonatomic {

/// Pure logic shared by the helpers (lib/cluster/nonatomic_commands.cpp); no I/O.
enum class SetOp : std::uint8_t { Diff, Inter, Union };
using Members = std::unordered_set<std::string>;
using Scored = std::vector<std::pair<std::string, double>>;

/// SDIFF / SINTER / SUNION of the sets in order (Diff: the first minus all the others).
Members combine_sets(SetOp op, std::vector<Members>&& sets);

/// ZUNIONSTORE / ZINTERSTORE's arithmetic: each set's scores times its weight (weights empty = all
/// 1), then SUM / MIN / MAX per member; NaN (inf × 0, inf + -inf) becomes 0 as in the server.
/// Union keeps members of any set, Inter only members of every set. Result sorted by member.
Scored combine_zsets(bool inter, const std::vector<Scored>& sets, const std::vector<double>& weights,
                     Aggregate aggregate);

/// A key name that hashes to `dst`'s slot and is unlikely to exist: "{<dst's hash tag>}:<label>:
/// <n>:<random hex>", or, when dst's tag cannot be reused verbatim (a key like "a}b" hashes whole
/// but does not survive being wrapped in braces), "{<a tag found to hash to the slot>}:...".
std::string temporary_key(std::string_view dst, std::string_view label, std::size_t n);

/// Whether all the keys hash to one slot (true for none).
bool one_slot(std::initializer_list<std::string_view> keys, const ArgList& more = {});

/// Members per write command when a helper fills its destination (keeps each command small).
inline constexpr std::size_t kWriteChunk = 1000;

}  // namespace nonatomic

template <class Derived>
class NonAtomicCommands {
  using Str = std::string_view;
  using ms = std::chrono::milliseconds;

 public:
  // ---- keys --------------------------------------------------------------------------------

  /// RENAME across slots: DUMP src, PTTL src → RESTORE dst <ttl> REPLACE → DEL src. Throws
  /// ResponseError "ERR no such key" (as RENAME does) when src does not exist.
  /// Others may observe: dst's old value until RESTORE, then src and dst both holding the value
  /// until DEL; a write to src after our DUMP is lost (DEL removes it), a write to dst before our
  /// RESTORE is overwritten. A failure after RESTORE leaves both keys.
  void rename_nonatomic(Str src, Str dst) {
    if (nonatomic::one_slot({src, dst})) return self().rename(src, dst);
    move_key(src, dst, true);
  }

  /// RENAMENX across slots: as rename_nonatomic, but RESTORE without REPLACE, so it returns false
  /// (and leaves src alone) when dst exists, including a dst created by someone else after our
  /// DUMP. Throws "ERR no such key" when src does not exist. Others may observe the same as for
  /// rename_nonatomic.
  bool renamenx_nonatomic(Str src, Str dst) {
    if (nonatomic::one_slot({src, dst})) return self().renamenx(src, dst);
    return move_key(src, dst, false);
  }

  /// MSETNX across slots: EXISTS over all the keys (split per slot, counts summed) → if none
  /// exists, mset_nonatomic. Returns whether the values were written.
  /// Others may observe: a key created between our EXISTS and our MSET is overwritten (MSETNX
  /// would have refused the whole call); the keys appear slot by slot, not all at once.
  bool msetnx_nonatomic(const PairList<Str>& kvs) {
    std::vector<Str> keys;
    keys.reserve(kvs.size());
    for (const auto& [k, v] : kvs) keys.push_back(k);
    if (nonatomic::one_slot({}, keys)) return self().msetnx(kvs);
    if (self().exists(keys) > 0) return false;
    self().mset_nonatomic(kvs);
    return true;
  }

  // ---- sets --------------------------------------------------------------------------------

  /// SDIFF / SINTER / SUNION across slots: SMEMBERS of every key at once (one fiber per key), the
  /// set algebra done here. Each set is read at its own moment: the result may combine one set
  /// before and another after a concurrent change, a state that never existed on the servers.
  nonatomic::Members sdiff_nonatomic(const ArgList& keys) {
    return set_op(nonatomic::SetOp::Diff, keys);
  }
  nonatomic::Members sinter_nonatomic(const ArgList& keys) {
    return set_op(nonatomic::SetOp::Inter, keys);
  }
  nonatomic::Members sunion_nonatomic(const ArgList& keys) {
    return set_op(nonatomic::SetOp::Union, keys);
  }

  /// SDIFFSTORE / SINTERSTORE / SUNIONSTORE across slots: the set computed as above, then DEL dst
  /// and SADD dst (in chunks of kWriteChunk members). Returns the stored set's size.
  /// Others may observe: dst missing (between DEL and SADD) or partly filled (between chunks); a
  /// write to dst during the call is lost; the stored set may mix source states (see above).
  long long sdiffstore_nonatomic(Str dst, const ArgList& keys) {
    return set_store(nonatomic::SetOp::Diff, dst, keys);
  }
  long long sinterstore_nonatomic(Str dst, const ArgList& keys) {
    return set_store(nonatomic::SetOp::Inter, dst, keys);
  }
  long long sunionstore_nonatomic(Str dst, const ArgList& keys) {
    return set_store(nonatomic::SetOp::Union, dst, keys);
  }

  /// SMOVE across slots: TYPE dst (WRONGTYPE unless a set or missing, as SMOVE checks) → SREM src
  /// member → if it was there, SADD dst member. Returns false if member was not in src.
  /// Others may observe the member in neither set between SREM and SADD. If SADD fails the member
  /// is put back into src (best effort; if that fails too it is lost, and the error is thrown).
  bool smove_nonatomic(Str src, Str dst, Str member) {
    if (nonatomic::one_slot({src, dst})) return self().smove(src, dst, member);
    check_type(dst, "set");
    if (self().srem(src, member) == 0) return false;
    try {
      self().sadd(dst, member);
    } catch (...) {
      put_back([&] { self().sadd(src, member); });
      throw;
    }
    return true;
  }

  // ---- lists -------------------------------------------------------------------------------

  /// RPOPLPUSH across slots: RPOP src → LPUSH dst. Returns the element, nullopt if src is empty.
  /// Others may observe the element in neither list between the two. If LPUSH fails (dst not a
  /// list) the element is pushed back onto src's tail (best effort) and the error thrown.
  std::optional<std::string> rpoplpush_nonatomic(Str src, Str dst) {
    if (nonatomic::one_slot({src, dst})) return self().rpoplpush(src, dst);
    check_type(dst, "list");
    std::optional<std::string> v = self().rpop(src);
    if (v) push_popped(src, dst, *v);
    return v;
  }

  /// BRPOPLPUSH across slots: BRPOP src timeout → LPUSH dst. Waits like BRPOP (zero = forever,
  /// the deadline is command_timeout + timeout); nullopt on timeout. Others may observe the same
  /// as for rpoplpush_nonatomic; a caller cancelled between the two steps loses the element.
  std::optional<std::string> brpoplpush_nonatomic(Str src, Str dst, ms timeout) {
    if (nonatomic::one_slot({src, dst})) return self().brpoplpush(src, dst, timeout);
    check_type(dst, "list");
    auto popped = self().brpop(src, timeout);
    if (!popped) return std::nullopt;
    push_popped(src, dst, popped->second);
    return std::move(popped->second);
  }

  /// SORT key ... STORE dst across slots: SORT key (without STORE) → DEL dst → RPUSH dst (in
  /// chunks). Returns the stored list's length (an empty result leaves dst deleted, like STORE).
  /// Others may observe dst missing or partly filled, and a write to dst during the call is lost.
  long long sort_nonatomic(Str key, Str dst, const SortOptions& o = {}) {
    Command cmd{"SORT", key};
    if (!o.by.empty()) cmd.arg("BY").arg(o.by);
    if (o.limit) cmd.arg("LIMIT").arg(o.limit->offset).arg(o.limit->count);
    for (const std::string& g : o.get) cmd.arg("GET").arg(g);
    if (o.descending) cmd.arg("DESC");
    if (o.alpha) cmd.arg("ALPHA");
    if (nonatomic::one_slot({key, dst})) {
      cmd.arg("STORE").arg(dst);
      return self().execute(cmd).as_integer();
    }
    Reply r = self().execute(cmd);
    std::vector<std::string> items;
    for (Reply& e : parse::detail::array(r, "SORT result")) items.push_back(e.is_nil() ? std::string() : parse::detail::take_string(e));
    self().del(dst);
    write_chunks(items.size(), [&](const ArgList& part) { self().rpush(dst, part); }, items);
    return static_cast<long long>(items.size());
  }

  // ---- sorted sets -------------------------------------------------------------------------

  /// ZUNIONSTORE / ZINTERSTORE across slots: ZRANGE key 0 -1 WITHSCORES of every key at once
  /// (plain sets count with score 1, as the server allows), weights and AGGREGATE applied here,
  /// then DEL dst and ZADD dst (in chunks). Returns the stored set's size.
  /// Others may observe dst missing or partly filled; a write to dst or to a source during the
  /// call may be lost or half counted (each source is read at its own moment).
  long long zunionstore_nonatomic(Str dst, const ArgList& keys, const ZStoreOptions& o = {}) {
    if (nonatomic::one_slot({dst}, keys)) return self().zunionstore(dst, keys, o);
    return zset_store(false, dst, keys, o);
  }
  long long zinterstore_nonatomic(Str dst, const ArgList& keys, const ZStoreOptions& o = {}) {
    if (nonatomic::one_slot({dst}, keys)) return self().zinterstore(dst, keys, o);
    return zset_store(true, dst, keys, o);
  }

  // ---- HyperLogLog -------------------------------------------------------------------------

  /// PFMERGE across slots. Sources in dst's slot are merged directly; every other source is
  /// copied (DUMP, then RESTORE with a 60 s TTL) into a temporary key carrying dst's hash tag,
  /// "{tag}:pfmerge-tmp:<n>:<random>"; then PFMERGE dst <sources and temporaries>; the
  /// temporaries are deleted afterwards, also when a step failed (the TTL removes any a crash
  /// leaves behind). Missing sources count as empty, as in PFMERGE.
  /// Others may observe the temporary keys (SCAN, KEYS, DBSIZE); additions to a source after its
  /// DUMP are not merged.
  void pfmerge_nonatomic(Str dst, const ArgList& sources) {
    if (nonatomic::one_slot({dst}, sources)) return self().pfmerge(dst, sources);
    const std::uint16_t slot = key_slot(dst);
    std::vector<std::string> names(sources.size());  // what PFMERGE reads for each source
    std::vector<bool> is_temp(sources.size(), false);
    const Str* src = sources.begin();
    auto cleanup = [&] {
      std::vector<Str> temps;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (is_temp[i]) temps.push_back(names[i]);
      if (!temps.empty()) self().del(temps);
    };
    try {
      detail::for_each_concurrently(sources.size(), [&](std::size_t i) {
        if (key_slot(src[i]) == slot) {
          names[i] = std::string(src[i]);
          return;
        }
        std::optional<std::string> payload = self().dump(src[i]);
        if (!payload) return;  // missing source: nothing to merge
        names[i] = nonatomic::temporary_key(dst, "pfmerge-tmp", i);
        is_temp[i] = true;  // before RESTORE: a RESTORE that timed out may still have run
        self().restore(names[i], ms(60'000), *payload, true);
      });
      std::vector<Str> merge_from;
      for (const std::string& n : names)
        if (!n.empty()) merge_from.push_back(n);
      self().pfmerge(dst, merge_from);
    } catch (...) {
      try {
        cleanup();
      } catch (...) {  // best effort: the TTL removes what is left
      }
      throw;
    }
    cleanup();
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }

  // DUMP + PTTL src → RESTORE dst → DEL src. Returns false when replace is off and dst exists.
  bool move_key(Str src, Str dst, bool replace) {
    std::optional<std::string> payload = self().dump(src);
    if (!payload) throw_reply_error("ERR no such key");
    long long ttl = self().pttl(src).count();
    if (ttl == -2) throw_reply_error("ERR no such key");  // expired or deleted after our DUMP
    if (ttl < 0) ttl = 0;                                   // -1: no expiry; RESTORE's 0 = none
    Command restore{"RESTORE", dst};
    restore.arg(ttl).arg(*payload);
    if (replace) restore.arg("REPLACE");
    Reply r = self().execute(restore);
    if (r.is_error() && r.str().starts_with("BUSYKEY")) return false;
    parse::Ok::parse(std::move(r));
    self().del(src);
    return true;
  }

  // WRONGTYPE before we take anything out of the source, as the native command checks first.
  void check_type(Str key, std::string_view expected) {
    const std::string t = self().type(key);
    if (t != "none" && t != expected)
      throw_reply_error("WRONGTYPE Operation against a key holding the wrong kind of value");
  }

  template <class F>
  static void put_back(F&& undo) {
    try {
      undo();
    } catch (...) {  // the original error is the one to report
    }
  }

  void push_popped(Str src, Str dst, const std::string& value) {
    try {
      self().lpush(dst, value);
    } catch (...) {
      put_back([&] { self().rpush(src, value); });
      throw;
    }
  }

  std::vector<nonatomic::Members> fetch_sets(const ArgList& keys) {
    std::vector<nonatomic::Members> sets(keys.size());
    const Str* k = keys.begin();
    detail::for_each_concurrently(keys.size(), [&](std::size_t i) { sets[i] = self().smembers(k[i]); });
    return sets;
  }

  nonatomic::Members set_op(nonatomic::SetOp op, const ArgList& keys) {
    if (nonatomic::one_slot({}, keys)) {
      switch (op) {
        case nonatomic::SetOp::Diff: return self().sdiff(keys);
        case nonatomic::SetOp::Inter: return self().sinter(keys);
        case nonatomic::SetOp::Union: break;
      }
      return self().sunion(keys);
    }
    return nonatomic::combine_sets(op, fetch_sets(keys));
  }

  long long set_store(nonatomic::SetOp op, Str dst, const ArgList& keys) {
    if (nonatomic::one_slot({dst}, keys)) {
      switch (op) {
        case nonatomic::SetOp::Diff: return self().sdiffstore(dst, keys);
        case nonatomic::SetOp::Inter: return self().sinterstore(dst, keys);
        case nonatomic::SetOp::Union: break;
      }
      return self().sunionstore(dst, keys);
    }
    nonatomic::Members result = nonatomic::combine_sets(op, fetch_sets(keys));
    std::vector<Str> members(result.begin(), result.end());
    self().del(dst);
    write_chunks(members.size(), [&](const ArgList& part) { self().sadd(dst, part); }, members);
    return static_cast<long long>(members.size());
  }

  long long zset_store(bool inter, Str dst, const ArgList& keys, const ZStoreOptions& o) {
    if (!o.weights.empty() && o.weights.size() != keys.size())
      throw UsageError(std::string(inter ? "ZINTERSTORE" : "ZUNIONSTORE") + ": one weight per source key");
    std::vector<nonatomic::Scored> sets(keys.size());
    const Str* k = keys.begin();
    detail::for_each_concurrently(keys.size(), [&](std::size_t i) {
      Reply r = self().execute(Command{"ZRANGE", k[i], "0", "-1", "WITHSCORES"});
      if (r.is_error() && r.str().starts_with("WRONGTYPE")) {
        // The server's Z*STORE accepts plain sets (every member scores 1); so do we.
        for (const std::string& m : self().smembers(k[i])) sets[i].emplace_back(m, 1.0);
        return;
      }
      sets[i] = parse::ScoredMembers::parse(std::move(r));
    });
    nonatomic::Scored result = nonatomic::combine_zsets(inter, sets, o.weights, o.aggregate);
    self().del(dst);
    for (std::size_t at = 0; at < result.size(); at += nonatomic::kWriteChunk) {
      const std::size_t end = std::min(result.size(), at + nonatomic::kWriteChunk);
      std::vector<std::pair<Str, double>> part;
      part.reserve(end - at);
      for (std::size_t i = at; i < end; ++i) part.emplace_back(result[i].first, result[i].second);
      self().zadd(dst, part);
    }
    return static_cast<long long>(result.size());
  }

  // Calls write(part) for consecutive slices of at most kWriteChunk items.
  template <class W, class Items>
  static void write_chunks(std::size_t n, W&& write, const Items& items) {
    for (std::size_t at = 0; at < n; at += nonatomic::kWriteChunk) {
      const std::size_t end = std::min(n, at + nonatomic::kWriteChunk);
      std::vector<Str> part(items.begin() + static_cast<std::ptrdiff_t>(at),
                            items.begin() + static_cast<std::ptrdiff_t>(end));
      write(ArgList(part));
    }
  }
};

}  // namespace fibredis
