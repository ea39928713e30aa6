// Futures: many commands in flight from one fiber, without a pipeline object (Lettuce's async API).
//
// `client.async()` is a view with every typed command of the Commands<> mixin; each returns a
// boost::fibers::future of what the synchronous call returns, and `async_command({...})` the raw
// Reply. The same for Client and ClusterClient (AsyncCommands<> below, written once):
//
// @code
//   std::vector<boost::fibers::future<bool>> sets;
//   for (int i = 0; i < 1000; ++i) sets.push_back(c.async().set("k" + std::to_string(i), "v"));
//   fibredis::wait_all(sets);                                // all 1,000 in flight at once
//   auto v = c.async().get("k7");                            // future<std::optional<std::string>>
//   auto [n, r] = fibredis::wait_all(c.async().incr("n"), c.async_command({"TYPE", "n"}));
// @endcode
//
// Each call starts one fiber on a pooled stack (Runtime::spawn) that runs the synchronous command
// and fulfils the promise, so the command takes exactly the synchronous path: the same routing,
// retries and deadline (command_timeout + block time, counted from when the fiber runs, which is
// as soon as the calling fiber next yields), and commands issued in one scheduler round leave
// together on the shared connection. future.get() returns the value or throws what the
// synchronous call throws (ResponseError, TimeoutError, ConnectionError, UsageError...).
//
// Object lifetimes: a future owns its result and stays valid after the client is gone. The
// client's destructor waits until every async command it started has finished (each is bounded by
// its own deadline; one blocking forever, BLPOP with timeout 0, keeps the destructor waiting), so
// no command outlives its client and every future is fulfilled with the command's real outcome.
// Futures belong to the client's thread (Runtime), like the client.
#pragma once

#include <fibredis/client/commands.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/parker.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/future.hpp>

#include <cstddef>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace fibredis {

template <class T>
using Future = boost::fibers::future<T>;

/// Counts a client's async commands in flight, so that its destructor can wait for them.
class AsyncTracker {
 public:
  AsyncTracker() = default;
  AsyncTracker(const AsyncTracker&) = delete;
  AsyncTracker& operator=(const AsyncTracker&) = delete;

  void begin() noexcept { ++live_; }
  void end() noexcept {
    if (--live_ == 0 && drainer_ != nullptr) drainer_->unpark();
  }
  std::size_t live() const noexcept { return live_; }
  /// Parks the calling fiber until no async command is in flight.
  void drain() noexcept;

 private:
  std::size_t live_ = 0;
  Parker* drainer_ = nullptr;
};

template <class Client>
class AsyncCommands;

/// client.async(): the typed commands, each returning a Future of the synchronous result.
template <class Client>
class AsyncView : public Commands<AsyncView<Client>> {
 public:
  /// The Commands<> hook: run the synchronous call in a pooled fiber, fulfil the promise there.
  template <class Parser>
  Future<typename Parser::type> dispatch(Command&& cmd) {
    using T = typename Parser::type;
    boost::fibers::promise<T> promise;
    Future<T> future = promise.get_future();
    AsyncTracker& tracker = static_cast<AsyncCommands<Client>&>(*client_).tracker_;
    tracker.begin();
    try {
      spawn([c = client_, t = &tracker, cmd = std::move(cmd), p = std::move(promise)]() mutable {
        try {
          if constexpr (std::is_void_v<T>) {
            c->template dispatch<Parser>(std::move(cmd));
            p.set_value();
          } else {
            p.set_value(c->template dispatch<Parser>(std::move(cmd)));
          }
        } catch (...) {
          p.set_exception(std::current_exception());
        }
        // Last: set_value only readies the waiting fiber, it runs after this one yields, so the
        // client (which may be destroyed as soon as the tracker says so) is not touched after.
        t->end();
      });
    } catch (...) {
      tracker.end();
      throw;
    }
    return future;
  }

  /// Iterators page synchronously; use the client's scan_iter.
  template <class... A>
  void scan_iter(A&&...) = delete;
  template <class... A>
  void hscan_iter(A&&...) = delete;
  template <class... A>
  void sscan_iter(A&&...) = delete;
  template <class... A>
  void zscan_iter(A&&...) = delete;

 private:
  friend class AsyncCommands<Client>;
  explicit AsyncView(Client& c) noexcept : client_(&c) {}
  Client* client_;
};

/// The async entry points of a client (mixed into Client and ClusterClient). The client's
/// destructor must call drain_async() first, while everything the commands use is alive.
template <class Client>
class AsyncCommands {
 public:
  AsyncView<Client> async() noexcept { return AsyncView<Client>(static_cast<Client&>(*this)); }

  /// Any command (see Commands::command): a Future of its raw Reply; an error reply is thrown by
  /// get() as the synchronous command() throws it.
  Future<Reply> async_command(std::initializer_list<std::string_view> args) { return async().command(args); }
  template <detail::StringRange R>
  Future<Reply> async_command(const R& args) {
    return async().command(args);
  }
  Future<Reply> async_command(Command cmd) { return async().command(std::move(cmd)); }

  /// Async commands started and not finished yet.
  std::size_t async_in_flight() const noexcept { return tracker_.live(); }

 protected:
  AsyncCommands() = default;
  ~AsyncCommands() = default;
  /// Waits until every async command of this client has finished.
  void drain_async() noexcept { tracker_.drain(); }

 private:
  friend class AsyncView<Client>;
  AsyncTracker tracker_;
};

/// Waits for every future, then returns their values in order, or rethrows the first error (in
/// the order of `futures`) once all have finished, so no command is still running when it throws.
/// The futures are consumed.
template <class T>
auto wait_all(std::vector<Future<T>>& futures) {
  for (Future<T>& f : futures) f.wait();
  if constexpr (std::is_void_v<T>) {
    for (Future<T>& f : futures) f.get();
  } else {
    std::vector<T> values;
    values.reserve(futures.size());
    for (Future<T>& f : futures) values.push_back(f.get());
    return values;
  }
}
template <class T>
auto wait_all(std::vector<Future<T>>&& futures) {
  return wait_all(futures);
}

/// The same for futures of different types: a tuple of their values (none may be void).
template <class... T>
  requires(sizeof...(T) > 0 && (!std::is_void_v<T> && ...))
std::tuple<T...> wait_all(Future<T>&&... futures) {
  (futures.wait(), ...);
  std::exception_ptr first;
  auto take = [&first]<class U>(Future<U>& f) -> std::optional<U> {
    try {
      return f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
      return std::nullopt;
    }
  };
  std::tuple<std::optional<T>...> got{take(futures)...};
  if (first) std::rethrow_exception(first);
  return std::apply([](auto&... v) { return std::tuple<T...>(std::move(*v)...); }, got);
}

}  // namespace fibredis
