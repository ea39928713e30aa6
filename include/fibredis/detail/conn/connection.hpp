// Connection: one TCP connection to one server, with the handshake done and a RESP reader.
//
// This is the exclusive form: one fiber owns it for a request (a blocking command, a transaction
// with WATCH, a subscription). The multiplexed form (SharedConnection) is built on top of it.
// Any transport failure, protocol error or missed deadline marks it broken: a reply may still be
// on its way, so the stream can no longer be trusted and the pool drops it.
#pragma once

#include <fibredis/conn/options.hpp>
#include <fibredis/detail/net/tcp_socket.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/detail/resp/reader.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis {

class Connection {
 public:
  Connection();
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Connects to options.host:port and runs the handshake in one round trip: AUTH (user+password),
  /// SELECT db, CLIENT SETNAME, READONLY, as configured. Errors: the socket's, errc::auth_failed,
  /// errc::protocol_error; error_text() then has the server's words.
  std::error_code connect(const Options& options, Deadline deadline);

  /// Writes the commands as one batch and reads exactly n replies into out[0..n).
  std::error_code roundtrip(const Command* cmds, std::size_t n, Reply* out, Deadline deadline);

  /// Writes already-encoded RESP.
  std::error_code write(std::string_view bytes, Deadline deadline);
  /// One non-blocking send of the iovecs (TcpSocket::send_now); a failure marks this broken.
  std::error_code send_now(const iovec* iov, std::size_t count, std::size_t& n) noexcept;
  /// Waits until the socket takes more bytes; a failure or a missed deadline marks this broken.
  std::error_code wait_writable(Deadline deadline) noexcept;
  /// Reads the next reply (buffered bytes first, then the socket).
  std::error_code read_reply(Reply& out, Deadline deadline);

  /// Wakes a fiber parked in read_reply (it gets connection_closed) and marks this broken.
  void shutdown() noexcept;

  bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept { broken_ = true; }
  /// The server's error text from a failed handshake, or the protocol error's description.
  const std::string& error_text() const noexcept { return error_text_; }
  /// "host:port" as configured.
  const std::string& address() const noexcept { return address_; }

 private:
  std::error_code fail(std::error_code ec) noexcept;

  TcpSocket socket_;
  ReplyReader reader_;
  std::unique_ptr<char[]> buffer_;
  std::size_t pending_off_ = 0;  // bytes of buffer_ read from the socket, not yet fed to reader_
  std::size_t pending_len_ = 0;
  bool slice_next_ = true;       // feed the next 1 KiB slice only (see read_reply)
  std::string out_;
  std::string error_text_;
  std::string address_;
  bool broken_ = true;  // until connected
};

}  // namespace fibredis
