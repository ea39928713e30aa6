// Futures: many commands in flight from one fiber, without a pipeline object (Lettuce's async API).
//
// `client.async()` is a view with every typed command of the Commands<> mixin; each returns a
// boost::fibers::future of what the synchronous call returns, and `async_command({...})` the raw
// Reply. The same for Client and ClusterClient (AsyncCommands<>, client/async_commands.hpp, written
// once). Opt-in: the umbrella header does not include this one (it would pull Boost.Fiber's
// futures, and with them its scheduler headers, into every translation unit); include it to call
// async():
//
// @code
//   #include <fibredis/client/async.hpp>
//   std::vector<boost::fibers::future<bool>> sets;
//   for (int i = 0; i < 1000; ++i) sets.push_back(c.async().set("k" + std::to_string(i), "v"));
//   fibredis::wait_all(sets);                                // all 1,000 in flight at once
//   auto v = c.async().get("k7");                            // future<std::optional<std::string>>
//   auto [n, r] = fibredis::wait_all(c.async().incr("n"), c.async_command({"TYPE", "n"}));
// @endcode
//
// How a call runs. On Client, ordinary commands issued in one scheduler round (before the calling
// fiber yields) are collected and sent as one batch on the shared connection by one fiber, the
// way a pipeline is (at most max_in_flight per batch); no fiber per command. Commands the server
// may hold (BLPOP...), WAIT, and every command of a ClusterClient instead get one fiber each, on
// a pooled stack, that runs the synchronous call (the same routing, retries, merges). Either way
// the deadline is the synchronous call's (command_timeout + block time), counted from when the
// batch or fiber runs: as soon as the calling fiber next yields. future.get() returns the value
// or throws what the synchronous call throws (ResponseError, TimeoutError, ConnectionError,
// UsageError...); a transport failure of a batch fails each of its futures with that error.
//
// Object lifetimes: a future owns its result and stays valid after the client is gone. The
// client's destructor waits until every async command it started has finished (each is bounded by
// its own deadline; one blocking forever, BLPOP with timeout 0, keeps the destructor waiting), so
// no command outlives its client and every future is fulfilled with the command's real outcome.
// Futures belong to the client's thread (Runtime), like the client.
#pragma once

#include <fibredis/client/async_commands.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/future.hpp>

#include <concepts>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace fibredis {

template <class T>
using Future = boost::fibers::future<T>;

namespace detail {

/// One async command waiting for its batch: the command, and how to fulfil its promise.
struct AsyncItem {
  explicit AsyncItem(Command c) noexcept : cmd(std::move(c)) {}
  virtual ~AsyncItem() = default;
  virtual void complete(Reply&& reply) noexcept = 0;
  virtual void fail(std::exception_ptr error) noexcept = 0;
  Command cmd;
};

template <class Parser>
struct AsyncItemOf final : AsyncItem {
  using T = typename Parser::type;
  using AsyncItem::AsyncItem;
  void complete(Reply&& reply) noexcept override {
    try {
      if constexpr (std::is_void_v<T>) {
        Parser::parse(std::move(reply));
        promise.set_value();
      } else {
        promise.set_value(Parser::parse(std::move(reply)));
      }
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  }
  void fail(std::exception_ptr error) noexcept override { promise.set_exception(error); }
  boost::fibers::promise<T> promise;
};

/// A client that can run a batch of commands on its shared connection (Client::run_batch).
template <class C>
concept BatchRunner = requires(C& c, const Command* cmds, std::size_t n, Reply* out) {
  c.run_batch(cmds, n, out);
  { c.options().max_in_flight } -> std::convertible_to<std::size_t>;
};

}  // namespace detail

/// client.async(): the typed commands, each returning a Future of the synchronous result.
template <class Client>
class AsyncView : public Commands<AsyncView<Client>> {
 public:
  /// The Commands<> hook: queue the command for this round's batch (Client, ordinary commands), or
  /// run the synchronous call in a pooled fiber; either fulfils the promise.
  template <class Parser>
  Future<typename Parser::type> dispatch(Command&& cmd) {
    using T = typename Parser::type;
    auto& self = static_cast<AsyncCommands<Client>&>(*client_);
    if constexpr (detail::BatchRunner<Client>) {
      // The shared connection's path: batched, no fiber of its own (see the top of this file).
      if (!cmd.blocking && !counts_own_writes(cmd)) {
        auto item = std::make_unique<detail::AsyncItemOf<Parser>>(std::move(cmd));
        Future<T> future = item->promise.get_future();
        self.batcher_.add(std::move(item), self.tracker_, client_, &run_on<Client>, client_->options().max_in_flight);
        return future;
      }
    }
    boost::fibers::promise<T> promise;
    Future<T> future = promise.get_future();
    AsyncTracker& tracker = self.tracker_;
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
  template <class C>
  static void run_on(void* client, const Command* cmds, std::size_t n, Reply* out) {
    static_cast<C*>(client)->run_batch(cmds, n, out);
  }
  Client* client_;
};

template <class Client>
AsyncView<Client> AsyncCommands<Client>::async() noexcept {
  return AsyncView<Client>(static_cast<Client&>(*this));
}

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
