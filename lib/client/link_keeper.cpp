#include <fibredis/detail/client/link_keeper.hpp>

#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/errors.hpp>

#include <exception>
#include <utility>

namespace fibredis {

LinkKeeper::~LinkKeeper() { stop(); }

void LinkKeeper::start(Steps steps) {
  if (fiber_.joinable()) return;
  steps_ = std::move(steps);
  stopping_ = false;
  fiber_ = Fiber([this] { loop(); });
}

void LinkKeeper::wake() noexcept {
  if (nap_ != nullptr) nap_->unpark();
}

void LinkKeeper::stop() noexcept {
  stopping_ = true;
  wake();
  try {
    if (fiber_.joinable()) fiber_.join();
  } catch (const std::exception&) {
    // The loop catches the refresh's errors itself; nothing else is expected here.
  }
}

void LinkKeeper::loop() {
  while (!stopping_) {
    {
      Parker p;
      nap_ = &p;
      p.park(deadline_after(refresh_wanted_ ? kRefreshInterval : kCheckInterval));
      nap_ = nullptr;
    }
    if (stopping_) break;
    // While a link is down or a channel waits for its new owner the map may be stale: refresh
    // (single-flight and rate-limited by the client) until it shows the change.
    if (refresh_wanted_ || steps_.stale()) {
      refresh_wanted_ = false;
      try {
        steps_.refresh();
      } catch (const Error&) {
        // No node answered this time; try again next pass.
      }
      if (stopping_) break;
    }
    steps_.rebalance();
  }
}

}  // namespace fibredis
