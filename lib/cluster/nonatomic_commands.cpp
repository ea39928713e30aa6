#include <fibredis/cluster/nonatomic_commands.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_map>

namespace fibredis::nonatomic {

Members combine_sets(SetOp op, std::vector<Members>&& sets) {
  if (sets.empty()) return {};
  if (op == SetOp::Union) {
    Members out = std::move(sets.front());
    for (std::size_t i = 1; i < sets.size(); ++i) out.merge(sets[i]);
    return out;
  }
  if (op == SetOp::Diff) {
    Members out = std::move(sets.front());
    for (std::size_t i = 1; i < sets.size() && !out.empty(); ++i)
      for (const std::string& m : sets[i]) out.erase(m);
    return out;
  }
  // Inter: walk the smallest set, keep what every other set has.
  auto smallest = std::min_element(sets.begin(), sets.end(),
                                   [](const Members& a, const Members& b) { return a.size() < b.size(); });
  Members out;
  for (const std::string& m : *smallest) {
    bool everywhere = true;
    for (const Members& s : sets)
      if (&s != &*smallest && !s.contains(m)) {
        everywhere = false;
        break;
      }
    if (everywhere) out.insert(m);
  }
  return out;
}

namespace {

// t_zset.c zunionInterAggregate: a NaN (inf + -inf) becomes 0.
void aggregate_into(double& target, double value, Aggregate a) {
  switch (a) {
    case Aggregate::Sum:
      target += value;
      if (std::isnan(target)) target = 0.0;
      break;
    case Aggregate::Min: target = std::min(target, value); break;
    case Aggregate::Max: target = std::max(target, value); break;
  }
}

}  // namespace

Scored combine_zsets(bool inter, const std::vector<Scored>& sets, const std::vector<double>& weights,
                     Aggregate aggregate) {
  std::unordered_map<std::string_view, std::pair<double, std::size_t>> acc;  // score, sets seen in
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    for (const auto& [member, score] : sets[i]) {
      double v = w * score;
      if (std::isnan(v)) v = 0.0;  // inf * 0, as the server does
      auto [it, fresh] = acc.try_emplace(member, v, 1);
      if (!fresh) {
        aggregate_into(it->second.first, v, aggregate);
        ++it->second.second;
      }
    }
  }
  Scored out;
  out.reserve(acc.size());
  for (const auto& [member, entry] : acc)
    if (!inter || entry.second == sets.size()) out.emplace_back(std::string(member), entry.first);
  std::sort(out.begin(), out.end());
  return out;
}

std::string temporary_key(std::string_view dst, std::string_view label, std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint16_t slot = key_slot(dst);
  char random[17];
  std::snprintf(random, sizeof random, "%016llx", static_cast<unsigned long long>(rng()));
  const std::string tail = ":" + std::string(label) + ":" + std::to_string(n) + ":" + random;
  std::string key = "{" + std::string(hash_tag(dst)) + "}" + tail;
  if (key_slot(key) == slot) return key;
  // dst's hashed part does not survive being wrapped in braces (it is empty or holds a '}'):
  // find a short tag with the same CRC16 slot instead. About 16384 tries on average; the bound
  // is far past any real chance of not finding one.
  for (unsigned i = 0; i < (1U << 24); ++i) {
    std::string tag = "t" + std::to_string(i);
    if (key_slot(tag) == slot) return "{" + tag + "}" + tail;
  }
  throw UsageError("no temporary key name found for the slot of the destination");
}

bool one_slot(std::initializer_list<std::string_view> keys, const ArgList& more) {
  std::optional<std::uint16_t> slot;
  auto same = [&slot](std::string_view k) {
    const std::uint16_t s = key_slot(k);
    if (!slot) slot = s;
    return *slot == s;
  };
  for (std::string_view k : keys)
    if (!same(k)) return false;
  for (std::string_view k : more)
    if (!same(k)) return false;
  return true;
}

}  // namespace fibredis::nonatomic
