// Inbox: drains a subscriber (PubSub, ClusterPubSub, ShardedPubSub, KeyspaceEvents) in its own
// fiber, so a test can publish from another fiber and then check what arrived.
#pragma once

#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace fibredis::test {

template <class Sub>
class Inbox {
 public:
  explicit Inbox(Sub& sub) : sub_(sub), fiber_([this] { run(); }) {}
  ~Inbox() { stop(); }
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void stop() {
    stop_ = true;
    if (fiber_.joinable()) fiber_.join();
  }

  std::vector<Message> all;                                   ///< everything, in order
  std::vector<Message> gaps;                                  ///< Gap events
  std::map<std::string, std::vector<std::string>> data;       ///< channel → payloads, in order
  std::size_t count(MessageKind k) const {
    std::size_t n = 0;
    for (const auto& m : all) n += m.kind == k ? 1 : 0;
    return n;
  }
  std::size_t data_count() const {
    std::size_t n = 0;
    for (const auto& [ch, v] : data) n += v.size();
    return n;
  }

 private:
  void run() {
    while (!stop_) {
      auto m = sub_.get_message(std::chrono::milliseconds(50));
      if (!m) continue;
      if (m->is_data()) data[m->channel].push_back(m->data);
      if (m->kind == MessageKind::Gap) gaps.push_back(*m);
      all.push_back(std::move(*m));
    }
  }

  Sub& sub_;
  bool stop_ = false;
  Fiber fiber_;
};

}  // namespace fibredis::test
