// Connection: one TCP connection to one server, with the handshake done and a RESP reader.
//
// This is the exclusive form: one fiber owns it for a request (a blocking command, a transaction
// with WATCH, a subscription). The multiplexed form (SharedConnection) is built on top of it.
// Any transport failure, protocol error or missed deadline marks it broken: a reply may still be
// on its way, so the stream can no longer be trusted and the pool drops it. The one exception is
// read_reply() with `keep_on_interrupt`: a wait for a reply that a deadline or a cancellation
// ended consumed nothing, so the caller may unblock the server side and read on (blocked-call
// cancellation, conn/node_connections.cpp).
//
// Memory: an exclusive connection may wait for minutes (BRPOP), ten thousand at a time, so while
// it waits it holds no read buffer. ReadBuffer::Lean (the default) waits for readability in the
// ring (a poll), then reads with a non-blocking recv into the thread's scratch buffer and feeds
// the RESP reader, whose own buffer is released again once it is empty. ReadBuffer::Owned keeps
// a 16 KiB buffer and receives into it through the ring in one operation: for the shared
// connection, one per node, where throughput matters and memory does not.
#pragma once

#include <fibredis/conn/options.hpp>
#include <fibredis/detail/net/tcp_socket.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/detail/resp/reader.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis {

class IoCancel;

class Connection {
 public:
  enum class ReadBuffer : std::uint8_t { Lean, Owned };

  explicit Connection(ReadBuffer mode = ReadBuffer::Lean);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The caller's first batch, sent in the same write as the handshake (see connect()).
  struct FirstBatch {
    const Command* cmds = nullptr;
    std::size_t n = 0;
    bool written = false;  ///< set by connect(): some byte of the batch may have reached the server
  };

  /// Connects to options.host:port and runs the handshake in one round trip: AUTH (user+password),
  /// SELECT db, CLIENT SETNAME, READONLY, CLIENT ID (when `want_client_id`), as configured.
  /// With `first`, its commands go in the same write, after the handshake: the server runs them
  /// in order, so a failed AUTH makes them fail with NOAUTH and they never run. On success the
  /// batch has been written and its n replies are the next ones to read (read_reply()). A
  /// handshake that could let the batch run in the wrong state when it fails (SELECT of another
  /// db, READONLY) is not pipelined: the batch is written once the handshake's replies are in.
  /// Errors: the socket's, errc::auth_failed, errc::protocol_error, errc::usage (error_text()
  /// has the server's words); `first->written` says whether the batch may have been sent.
  std::error_code connect(const Options& options, Deadline deadline, bool want_client_id = false,
                          FirstBatch* first = nullptr);

  /// Writes the commands as one batch and reads exactly n replies into out[0..n).
  std::error_code roundtrip(const Command* cmds, std::size_t n, Reply* out, Deadline deadline);

  /// Encodes and writes the commands (their replies are then read with read_reply()).
  std::error_code send(const Command* cmds, std::size_t n, Deadline deadline);

  /// Writes already-encoded RESP.
  std::error_code write(std::string_view bytes, Deadline deadline);
  /// One non-blocking send of the iovecs (TcpSocket::send_now); a failure marks this broken.
  std::error_code send_now(const iovec* iov, std::size_t count, std::size_t& n) noexcept;
  /// Waits until the socket takes more bytes; a failure or a missed deadline marks this broken.
  std::error_code wait_writable(Deadline deadline) noexcept;
  /// Reads the next reply (buffered bytes first, then the socket). With `keep_on_interrupt`, a
  /// wait that the deadline (errc::timeout) or `cancel` (errc::call_cancelled) ended leaves the
  /// connection usable: no byte was lost, read_reply may be called again (reply_pending() says
  /// whether part of the reply is in already).
  std::error_code read_reply(Reply& out, Deadline deadline, IoCancel* cancel = nullptr,
                             bool keep_on_interrupt = false);

  /// When bytes last arrived (ReadBuffer::Owned): a large reply in transfer is progress even
  /// before it is complete.
  Clock::time_point last_read() const noexcept { return last_read_; }

  /// Part of a reply has been received and not completed (after an interrupted read_reply).
  bool reply_pending() const noexcept { return !reader_.empty(); }

  /// Wakes a fiber parked in read_reply (it gets connection_closed) and marks this broken.
  void shutdown() noexcept;

  bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept { broken_ = true; }
  /// The server's error text from a failed handshake, or the protocol error's description.
  const std::string& error_text() const noexcept { return error_text_; }
  /// "host:port" as configured.
  const std::string& address() const noexcept { return address_; }
  /// The server's CLIENT ID for this connection (learned in the handshake), or -1.
  std::int64_t client_id() const noexcept { return client_id_; }
  /// When the connection was last handed back to a pool (for idle trimming).
  Clock::time_point idle_since() const noexcept { return idle_since_; }
  void set_idle_since(Clock::time_point t) noexcept { idle_since_ = t; }
  /// Keepalive's timing, for a connection that is to sit idle (TcpSocket::ensure_keepalive_timing).
  void ensure_keepalive_timing() noexcept { socket_.ensure_keepalive_timing(); }

 private:
  std::error_code fail(std::error_code ec) noexcept;
  std::error_code read_lean(Reply& out, Deadline deadline, IoCancel* cancel, bool keep_on_interrupt);
  std::error_code read_owned(Reply& out, Deadline deadline);
  void trim_out() noexcept;

  TcpSocket socket_;
  bool broken_ = true;  // until connected
  ReadBuffer mode_;
  bool slice_next_ = true;       // Owned: feed the next 1 KiB slice only (see read_owned)
  std::int64_t client_id_ = -1;
  ReplyReader reader_;
  std::unique_ptr<char[]> buffer_;  // Owned only
  std::size_t pending_off_ = 0;  // bytes of buffer_ read from the socket, not yet fed to reader_
  std::size_t pending_len_ = 0;
  Clock::time_point idle_since_{};
  Clock::time_point last_read_{};
  std::string out_;
  std::string error_text_;
  std::string address_;
};

}  // namespace fibredis
