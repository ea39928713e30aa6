// CommandQueue<Derived>: the queue behind both pipelines (client/pipeline.hpp,
// cluster/cluster_pipeline.hpp). Every typed command of Commands<Derived> lands in dispatch(), which
// queues it and returns the pipeline for chaining; execute() (Derived's own) takes the queue.
#pragma once

#include <fibredis/resp/command.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace fibredis {

template <class Derived>
class CommandQueue {
 public:
  /// The Commands<> hook: queue, and return the pipeline for chaining.
  template <class Parser>
  Derived& dispatch(Command&& cmd) {
    commands_.push_back(std::move(cmd));
    return static_cast<Derived&>(*this);
  }

  std::size_t size() const noexcept { return commands_.size(); }
  bool empty() const noexcept { return commands_.empty(); }
  /// Drops every queued command.
  void reset() noexcept { commands_.clear(); }

 protected:
  /// The queued commands, leaving the queue empty (for another round of queueing).
  std::vector<Command> take() noexcept {
    std::vector<Command> out = std::move(commands_);
    commands_.clear();
    return out;
  }

 private:
  std::vector<Command> commands_;
};

}  // namespace fibredis
