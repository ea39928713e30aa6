#include <fibredis/conn/connection.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/resp/error_reply.hpp>

#include <algorithm>
#include <vector>

namespace fibredis {

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kFeedSlice = 1024;

std::vector<Command> handshake_commands(const Options& o) {
  std::vector<Command> cmds;
  if (!o.password.empty()) {
    if (o.username.empty())
      cmds.push_back(Command{"AUTH", o.password});
    else
      cmds.push_back(Command{"AUTH", o.username, o.password});
  }
  if (o.db != 0) cmds.push_back(Command{"SELECT"}.arg(o.db) );
  if (!o.client_name.empty()) cmds.push_back(Command{"CLIENT", "SETNAME", o.client_name});
  if (o.readonly) cmds.push_back(Command{"READONLY"});
  return cmds;
}
}  // namespace

Connection::Connection() : buffer_(new char[kReadChunk]) {}
Connection::~Connection() = default;

std::error_code Connection::fail(std::error_code ec) noexcept {
  broken_ = true;
  return ec;
}

std::error_code Connection::connect(const Options& options, Deadline deadline) {
  address_ = options.address();
  error_text_.clear();
  reader_ = ReplyReader(options.max_reply_bytes);
  pending_off_ = pending_len_ = 0;
  slice_next_ = true;
  out_.clear();
  broken_ = true;
  if (auto ec = socket_.connect(options.host, options.port, deadline, options.socket)) return ec;
  broken_ = false;
  std::vector<Command> cmds = handshake_commands(options);
  if (cmds.empty()) return {};
  std::vector<Reply> replies(cmds.size());
  if (auto ec = roundtrip(cmds.data(), cmds.size(), replies.data(), deadline)) return ec;
  for (const Reply& r : replies) {
    if (!r.is_error()) continue;
    error_text_ = std::string(r.str());
    broken_ = true;
    socket_.close();
    if (classify_error(r.str()) == ErrorKind::Auth) return make_error_code(errc::auth_failed);
    return make_error_code(errc::protocol_error);
  }
  return {};
}

std::error_code Connection::roundtrip(const Command* cmds, std::size_t n, Reply* out, Deadline deadline) {
  if (broken_) return make_error_code(errc::not_connected);
  out_.clear();
  for (std::size_t i = 0; i < n; ++i) cmds[i].encode_to(out_);
  if (auto ec = write(out_, deadline)) return ec;
  for (std::size_t i = 0; i < n; ++i)
    if (auto ec = read_reply(out[i], deadline)) return ec;
  return {};
}

std::error_code Connection::write(std::string_view bytes, Deadline deadline) {
  if (broken_) return make_error_code(errc::not_connected);
  if (auto ec = socket_.send_all(bytes, deadline)) return fail(ec);
  return {};
}

std::error_code Connection::send_now(const iovec* iov, std::size_t count, std::size_t& n) noexcept {
  n = 0;
  if (broken_) return make_error_code(errc::not_connected);
  if (auto ec = socket_.send_now(iov, count, n)) return fail(ec);
  return {};
}

std::error_code Connection::wait_writable(Deadline deadline) noexcept {
  if (broken_) return make_error_code(errc::not_connected);
  if (auto ec = socket_.wait_writable(deadline)) return fail(ec);
  return {};
}

std::error_code Connection::read_reply(Reply& out, Deadline deadline) {
  if (broken_) return make_error_code(errc::not_connected);
  for (;;) {
    std::error_code ec;
    if (auto r = reader_.next(ec)) {
      out = std::move(*r);
      slice_next_ = true;
      return {};
    }
    if (ec) {
      error_text_ = reader_.error_text();
      return fail(ec);
    }
    if (pending_len_ == 0) {
      std::size_t n = 0;
      if (auto rec = socket_.recv_some(buffer_.get(), kReadChunk, n, deadline)) return fail(rec);
      pending_off_ = 0;
      pending_len_ = n;
    }
    // hiredis (read.c, redisReaderGetReply) moves its unread bytes to the front after a reply
    // once 1 KiB of its buffer is consumed: fed a 16 KiB read of small replies at once, that moves
    // ~8 times the data; fed 1 KiB at a time, about once. A slice that completes no reply (a
    // large one) is followed by the rest of the read at once.
    const std::size_t take = slice_next_ ? std::min(kFeedSlice, pending_len_) : pending_len_;
    reader_.feed(buffer_.get() + pending_off_, take);
    pending_off_ += take;
    pending_len_ -= take;
    slice_next_ = false;
  }
}

void Connection::shutdown() noexcept {
  broken_ = true;
  socket_.shutdown();
}

}  // namespace fibredis
