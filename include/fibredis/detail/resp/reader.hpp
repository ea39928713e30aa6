// ReplyReader: RESP2 bytes in, Reply values out.
//
// A thin owner of a hiredis redisReader whose object callbacks build our Reply tree directly (no
// redisReply copy step). Four verbs: construct, feed, next, and the error accessors. Socket-free,
// so it is tested by splitting every reply at every byte boundary.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "fibredis/resp/reply.hpp"

namespace fibredis {

/// Feeds bytes, pulls complete replies. Once the reader has erred it stays in error.
/// The hiredis reader (about 700 bytes with its buffer) is made by the first feed() and dropped
/// again by release() whenever every byte fed has been handed out: ten thousand connections
/// parked in BRPOP hold none (issue 9's 6 KiB per blocked call).
/// Nesting is limited by hiredis 0.14 to 7 levels of arrays (Redis replies use at most 4).
/// Moved-from readers may only be destroyed or assigned to.
///
/// What a server can make the reader hold is bounded by `max_reply_bytes`, counted about as the
/// reply's size on the wire (payload bytes plus 3 per element, the smallest an element can be):
/// a bulk string announced past the limit, an array whose announced element count cannot fit in
/// it, and a reply whose buffered bytes outgrow it are protocol errors as soon as the header (or
/// the excess) arrives, before its payload is buffered or any element storage is reserved. Array
/// storage is reserved only for as many elements as the bytes already received can hold.
class ReplyReader {
 public:
  /// Redis's own proto-max-bulk-len default: no single value a stock server stores is larger.
  static constexpr std::size_t kDefaultMaxReplyBytes = std::size_t{512} * 1024 * 1024;

  /// Allocates nothing: the reader's state is made by the first feed().
  explicit ReplyReader(std::size_t max_reply_bytes = kDefaultMaxReplyBytes) noexcept;
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;
  ReplyReader(ReplyReader&&) noexcept;
  ReplyReader& operator=(ReplyReader&&) noexcept;

  /// Appends bytes received from the socket (copied into the reader's buffer).
  void feed(const char* data, std::size_t n);

  /// The next complete reply, or std::nullopt when more bytes are needed (ec cleared). On
  /// malformed input, or a reply past max_reply_bytes, returns std::nullopt and sets
  /// ec = errc::protocol_error, and stays in error: later calls do the same.
  std::optional<Reply> next(std::error_code& ec);

  bool has_error() const noexcept;

  /// True when every byte fed has been parsed into replies already taken.
  bool empty() const noexcept;
  /// When empty(), frees the reader's input buffer (hiredis keeps it at its largest size, up to
  /// maxbuf): a connection that waits, perhaps for minutes, then holds no buffer at all.
  void release_buffer() noexcept;
  /// When empty(), frees the whole reader state (the next feed() makes a fresh one); otherwise
  /// does nothing. What a connection does before it waits, perhaps for minutes, for a reply.
  void release() noexcept;

  /// The reader's own error text (for the ProtocolError message); empty when there is no error.
  std::string error_text() const;

  struct State;  // implementation detail, public only for the C callbacks

 private:
  void ensure_state();

  std::size_t max_bytes_;
  std::unique_ptr<State> state_;  // null: nothing buffered, no error (see release())
};

}  // namespace fibredis
