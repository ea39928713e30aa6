// AsyncCommands: the async entry points mixed into Client and ClusterClient (async(),
// async_command()), and the state they keep. This header names no Boost.Fiber type, so the
// umbrella header stays free of Boost.Fiber; the futures themselves, the AsyncView and wait_all
// are in client/async.hpp, which a program calling async() includes:
//
// @code
//   #include <fibredis/fibredis.hpp>
//   #include <fibredis/client/async.hpp>   // Future<T>, async(), wait_all
// @endcode
#pragma once

#include <fibredis/client/commands.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace fibredis {

class Parker;  // detail/runtime/parker.hpp

namespace detail {
struct AsyncItem;  // client/async.hpp
}  // namespace detail

template <class Client>
class AsyncView;  // client/async.hpp

/// Counts a client's async commands in flight, so that its destructor can wait for them.
class AsyncTracker {
 public:
  AsyncTracker() = default;
  AsyncTracker(const AsyncTracker&) = delete;
  AsyncTracker& operator=(const AsyncTracker&) = delete;

  void begin() noexcept { ++live_; }
  void end() noexcept;
  std::size_t live() const noexcept { return live_; }
  /// Parks the calling fiber until no async command is in flight.
  void drain() noexcept;

 private:
  std::size_t live_ = 0;
  Parker* drainer_ = nullptr;
};

/// Collects a client's async commands of one scheduler round into batches, each sent by one fiber.
class AsyncBatcher {
 public:
  AsyncBatcher() noexcept;
  ~AsyncBatcher();
  AsyncBatcher(const AsyncBatcher&) = delete;
  AsyncBatcher& operator=(const AsyncBatcher&) = delete;

  /// Runs cmds[0..n) on the client and fills out[0..n); throws the client's errors.
  using Runner = void (*)(void* client, const Command* cmds, std::size_t n, Reply* out);

  /// Queues `item`; the first item of a batch starts the fiber that sends it once the caller
  /// yields. A batch holds at most `max_batch` commands; more start the next one.
  void add(std::unique_ptr<detail::AsyncItem> item, AsyncTracker& tracker, void* client, Runner run,
           std::size_t max_batch);

 private:
  void start(AsyncTracker& tracker, void* client, Runner run, std::size_t max_batch);
  void flush(AsyncTracker& tracker, void* client, Runner run, std::size_t max_batch);

  std::vector<std::unique_ptr<detail::AsyncItem>> queued_;  // the batch being collected
};

/// The async entry points of a client (mixed into Client and ClusterClient). The client's
/// destructor must call drain_async() first, while everything the commands use is alive.
template <class Client>
class AsyncCommands {
 public:
  /// The view with every typed command returning a Future (defined in client/async.hpp: include
  /// it to call this).
  AsyncView<Client> async() noexcept;

  /// Any command (see Commands::command): a Future<Reply> of its raw Reply; an error reply is
  /// thrown by get() as the synchronous command() throws it. Needs client/async.hpp, too (the
  /// return type is deduced there, so this header names no Boost.Fiber type).
  auto async_command(std::initializer_list<std::string_view> args) { return async().command(args); }
  template <detail::StringRange R>
  auto async_command(const R& args) {
    return async().command(args);
  }
  auto async_command(Command cmd) { return async().command(std::move(cmd)); }

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
  AsyncBatcher batcher_;
};

}  // namespace fibredis
