#include "workload.hpp"

#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <exception>
#include <random>

namespace fibredis::chaos {

namespace {

/// The exception's type as callers would catch it, most derived first.
std::string error_type(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const TimeoutError&) {
    return "TimeoutError";
  } catch (const ConnectionError&) {
    return "ConnectionError";
  } catch (const ClusterDownError&) {
    return "ClusterDownError";
  } catch (const TryAgainError&) {
    return "TryAgainError";
  } catch (const SlotNotCoveredError&) {
    return "SlotNotCoveredError";
  } catch (const RedirectLimitError&) {
    return "RedirectLimitError";
  } catch (const ClusterError&) {
    return "ClusterError";
  } catch (const ResponseError&) {
    return "ResponseError";
  } catch (const ProtocolError&) {
    return "ProtocolError";
  } catch (const Error&) {
    return "Error";
  } catch (const std::exception&) {
    return "std::exception";
  }
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Workload::Workload(ClusterClient& client, WorkloadOptions options)
    : client_(client), options_(std::move(options)) {}

template <class Fn>
bool Workload::call(Fn&& fn) {
  ++calls_;
  const auto t0 = Clock::now();
  bool ok = true;
  try {
    fn();
  } catch (...) {
    ok = false;
    ++errors_[error_type(std::current_exception())];
  }
  const auto t1 = Clock::now();
  const double s = seconds(t1 - t0);
  longest_s_ = std::max(longest_s_, s);
  if (t1 - t0 > options_.deadline + kDeadlineSlack) ++past_deadline_;
  if (!ok || t1 - t0 > std::chrono::seconds(1)) last_bad_ = std::max(last_bad_, t1);
  return ok;
}

void Workload::fiber_main(int id) {
  std::minstd_rand rng(static_cast<unsigned>(id) * 7919U + 1U);
  std::vector<std::string> mine;  // this fiber's acknowledged keys
  const std::string base = "chaos:" + options_.prefix;
  for (long j = 0; !stopping_; ++j) {
    const std::string tag = std::to_string(id) + ":" + std::to_string(j);
    const std::string key = base + ":s:" + tag;
    const std::string value = "v:" + tag;
    if (call([&] { client_.set(key, value); })) {
      strings_[key] = {value, Clock::now()};
      mine.push_back(key);
    } else {
      unacked_sets_.push_back(key);
    }
    const std::string list = base + ":l:" + std::to_string((id + j) % options_.lists);
    const std::string pushed = "p:" + tag;
    if (call([&] { client_.rpush(list, {pushed}); })) pushes_[list].push_back({pushed, Clock::now()});
    else unacked_pushes_[list].push_back(pushed);
    if (!mine.empty()) {
      const std::string& k = mine[rng() % mine.size()];
      std::optional<std::string> got;
      if (call([&] { got = client_.get(k); })) {
        ++reads_;
        if (!got || *got != strings_[k].value) ++stale_reads_;
      }
    }
    if (stopping_) break;
    boost::this_fiber::sleep_for(options_.pause);
  }
  --running_;
}

void Workload::start() {
  for (int i = 0; i < options_.fibers; ++i) {
    ++running_;
    spawn([this, i] { fiber_main(i); });
  }
}

void Workload::stop() {
  stopping_ = true;
  // Each fiber ends after its current call, which its deadline bounds.
  const auto give_up = Clock::now() + options_.deadline * 3;
  while (running_ > 0 && Clock::now() < give_up) boost::this_fiber::sleep_for(std::chrono::milliseconds(20));
}

void Workload::caller_figures(Clock::time_point fault_start, Outcome& out) const {
  out.calls = calls_;
  out.errors = errors_;
  out.acked_strings = strings_.size();
  std::uint64_t pushes = 0;
  for (const auto& [l, v] : pushes_) pushes += v.size();
  out.acked_pushes = pushes;
  out.reads = reads_;
  out.stale_reads = stale_reads_;
  out.longest_call_s = longest_s_;
  out.past_deadline = past_deadline_;
  out.last_bad_call = last_bad_;
  out.recovery_s = last_bad_ > fault_start ? seconds(last_bad_ - fault_start) : 0.0;
}

void Workload::verify(ClusterClient& reader, Clock::time_point window_from, Clock::time_point window_to,
                      Outcome& out) const {
  auto lost = [&](Clock::time_point acked_at) {
    if (acked_at >= window_from && acked_at <= window_to) ++out.lost_in_window;
    else ++out.lost_outside_window;
  };
  // Strings, in batches (MGET split per slot by the client).
  std::vector<std::string> keys;
  std::vector<const Ack*> acks;
  auto flush_batch = [&] {
    if (keys.empty()) return;
    const auto values = reader.mget_nonatomic(ArgList(keys));
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (!values[i] || *values[i] != acks[i]->value) lost(acks[i]->at);
    keys.clear();
    acks.clear();
  };
  for (const auto& [k, a] : strings_) {
    keys.push_back(k);
    acks.push_back(&a);
    if (keys.size() >= 500) flush_batch();
  }
  flush_batch();
  for (std::size_t i = 0; i < unacked_sets_.size(); i += 500) {
    const std::size_t end = std::min(unacked_sets_.size(), i + 500);
    const std::vector<std::string> part(unacked_sets_.begin() + static_cast<long>(i),
                                        unacked_sets_.begin() + static_cast<long>(end));
    for (const auto& v : reader.mget_nonatomic(ArgList(part)))
      if (v) ++out.unacked_applied;
  }
  // Lists: every acknowledged push exactly once, failed pushes at most once.
  std::map<std::string, std::vector<std::string>> all_lists;
  for (const auto& [l, v] : pushes_) all_lists[l];
  for (const auto& [l, v] : unacked_pushes_) all_lists[l];
  for (auto& [l, content] : all_lists) content = reader.lrange(l, 0, -1);
  for (const auto& [l, content] : all_lists) {
    std::map<std::string_view, int> count;
    for (const std::string& v : content) ++count[v];
    if (auto it = pushes_.find(l); it != pushes_.end()) {
      for (const Ack& a : it->second) {
        const int n = count.count(a.value) ? count[a.value] : 0;
        if (n == 0) lost(a.at);
        if (n > 1) out.duplicates += static_cast<std::uint64_t>(n - 1);
      }
    }
    if (auto it = unacked_pushes_.find(l); it != unacked_pushes_.end()) {
      for (const std::string& v : it->second) {
        const int n = count.count(v) ? count[v] : 0;
        if (n >= 1) ++out.unacked_applied;
        if (n > 1) out.duplicates += static_cast<std::uint64_t>(n - 1);
      }
    }
  }
}

}  // namespace fibredis::chaos
