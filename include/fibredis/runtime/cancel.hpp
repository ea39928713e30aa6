// Cancellation: a CancelSource ends calls early; a CancelScope puts a token (and optionally a
// deadline of the caller's own) on the calling fiber, and every fibredis call that fiber makes
// inside the scope obeys it.
//
// Why fiber-scoped rather than an argument: a call is written once (client/commands.hpp) and
// reaches the connection through Client, ClusterClient and pipelines alike; the scope reaches all
// of them without a second signature per command, and costs nothing to calls made outside one.
//
// What cancellation does (see NodeConnections::run_exclusive): a blocked command (BRPOP, XREAD
// BLOCK...) returns at once with CancelledError (cancel()) or TimeoutError (the scope's deadline);
// fibredis sends CLIENT UNBLOCK for its connection, reads the server's answer and returns the
// connection to the pool clean. If the server popped an element in the race, the call returns the
// element instead of the error: a BRPOP reply is never dropped.
//
// @code
//   fibredis::CancelSource stop;
//   fibredis::spawn([&] {
//     fibredis::CancelScope scope(stop.token());
//     try { auto v = client.brpop({"jobs"}, 0s); } catch (const fibredis::CancelledError&) {}
//   });
//   ...
//   stop.cancel();   // from any fiber of the same thread
// @endcode
//
// Threads: a CancelSource belongs to the thread (Runtime) whose fibers use its tokens; cancel()
// must be called there. Lifetime: the source must outlive every scope using its token.
#pragma once

#include <fibredis/runtime/deadline.hpp>

#include <cstddef>

namespace fibredis {

class CancelSource;

/// One waiting operation's interest in a cancellation: on_cancel() runs (once, in the cancelling
/// fiber, never suspending) when the source is cancelled while it is registered. Intrusive, so
/// registering and leaving cost O(1) and no allocation.
class CancelRegistration {
 public:
  CancelRegistration() = default;
  CancelRegistration(const CancelRegistration&) = delete;
  CancelRegistration& operator=(const CancelRegistration&) = delete;
  virtual ~CancelRegistration();

  /// Starts listening to `source` (nullptr: nothing). False if it is cancelled already.
  bool attach(CancelSource* source) noexcept;
  /// Stops listening; idempotent. The destructor does it too.
  void detach() noexcept;

 protected:
  virtual void on_cancel() noexcept = 0;

 private:
  friend class CancelSource;
  CancelSource* source_ = nullptr;
  CancelRegistration* prev_ = nullptr;
  CancelRegistration* next_ = nullptr;
};

/// A cheap handle on a CancelSource (copyable; nullptr-like when default constructed).
class CancelToken {
 public:
  CancelToken() = default;
  bool cancelled() const noexcept;
  explicit operator bool() const noexcept { return source_ != nullptr; }
  CancelSource* source() const noexcept { return source_; }

 private:
  friend class CancelSource;
  explicit CancelToken(CancelSource* s) noexcept : source_(s) {}
  CancelSource* source_ = nullptr;
};

class CancelSource {
 public:
  CancelSource() = default;
  ~CancelSource();
  CancelSource(const CancelSource&) = delete;
  CancelSource& operator=(const CancelSource&) = delete;

  CancelToken token() noexcept { return CancelToken(this); }
  /// Cancels every call waiting under this source's token now and every later one (sticky).
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }
  /// Operations currently registered (for tests).
  std::size_t registered() const noexcept { return count_; }

 private:
  friend class CancelRegistration;
  CancelRegistration* head_ = nullptr;
  std::size_t count_ = 0;
  bool cancelled_ = false;
};

/// Puts `token` and `deadline` on the calling fiber until the scope ends; scopes nest (the inner
/// one replaces the outer one's token; the deadline is the earlier of the two).
class CancelScope {
 public:
  explicit CancelScope(CancelToken token, Deadline deadline = kNoDeadline);
  explicit CancelScope(Deadline deadline) : CancelScope(CancelToken(), deadline) {}
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  CancelScope* outer_;
  CancelToken token_;
  Deadline deadline_;
  friend struct CallCancel;
};

/// What the calling fiber's innermost CancelScope says (none: an empty token and kNoDeadline).
struct CallCancel {
  CancelSource* source = nullptr;
  Deadline deadline = kNoDeadline;
  bool active() const noexcept { return source != nullptr || deadline != kNoDeadline; }
  static CallCancel current() noexcept;
};

}  // namespace fibredis
