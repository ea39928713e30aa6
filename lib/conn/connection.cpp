#include <fibredis/detail/conn/connection.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>
#include <fibredis/detail/runtime/io_call.hpp>

#include <boost/fiber/operations.hpp>
#include <fibredis/detail/runtime/io_call.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <vector>

namespace fibredis {

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kFeedSlice = 1024;
// Lean reads land here and are copied into the reader at once, before the fiber can suspend, so
// one buffer per thread serves every connection of that thread.
constexpr std::size_t kScratch = 64 * 1024;
// An encode buffer larger than this is freed after its write (a big pipeline's bytes are not
// kept by a connection that then waits for minutes).
constexpr std::size_t kKeepOut = 512;

char* scratch() {
  static thread_local std::unique_ptr<char[]> buf(new char[kScratch]);
  return buf.get();
}

// What the handshake sent: how many replies to read, and whether the first batch could travel
// in the same write.
struct Handshake {
  unsigned replies = 0;
  bool safe_to_pipeline = true;  // a failure makes the server refuse what follows (or cannot happen)
  bool has_client_id = false;
};

// Encodes the handshake into `out`. Out of line, as are the other cold parts of connect(): the
// Command temporaries then live in this frame only, not in connect()'s, which stays on the
// stack while connect() waits for the replies. Ten thousand connects at once each park a fiber
// there, and one 4 KiB stack page instead of two is most of the memory per blocked call.
[[gnu::noinline]] Handshake encode_handshake(const Options& o, bool want_client_id, std::string& out) {
  Handshake h;
  auto put = [&](const Command& c) {
    c.encode_to(out);
    ++h.replies;
  };
  if (!o.password.empty()) {
    if (o.username.empty())
      put(Command{"AUTH", o.password});
    else
      put(Command{"AUTH", o.username, o.password});
  }
  if (o.db != 0) {
    put(Command{"SELECT"}.arg(o.db));
    h.safe_to_pipeline = false;  // a refused SELECT would run the first batch in db 0
  }
  if (!o.client_name.empty()) put(Command{"CLIENT", "SETNAME", o.client_name});
  if (o.readonly) {
    put(Command{"READONLY"});
    h.safe_to_pipeline = false;  // refused on a non-cluster server, and the batch would still run
  }
  if (want_client_id) {
    put(Command{"CLIENT", "ID"});
    h.has_client_id = true;
  }
  return h;
}

[[gnu::noinline]] std::error_code handshake_refused(const Reply& r, std::string& error_text) {
  error_text = std::string(r.str());
  return classify_error(r.str()) == ErrorKind::Auth ? make_error_code(errc::auth_failed)
                                                    : make_error_code(errc::protocol_error);
}

// CLIENT SETNAME refuses spaces and newlines; checked here, so a refused name can never be the
// handshake failure that lets a pipelined first batch run.
bool valid_client_name(const std::string& name) {
  return std::none_of(name.begin(), name.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r'; });
}
}  // namespace

static_assert(sizeof(Connection) <= 184, "memory per blocked call is a published figure (conn/connection.hpp)");

Connection::Connection(ReadBuffer mode)
    : mode_(mode), buffer_(mode == ReadBuffer::Owned ? new char[kReadChunk] : nullptr) {}
Connection::~Connection() = default;

std::error_code Connection::fail(std::error_code ec) noexcept {
  broken_ = true;
  return ec;
}

std::error_code Connection::connect(const Options& options, Deadline deadline, bool want_client_id,
                                    FirstBatch* first) {
  address_ = options.address();
  error_text_.clear();
  reader_ = ReplyReader(options.max_reply_bytes);
  pending_off_ = pending_len_ = 0;
  slice_next_ = true;
  out_.clear();
  client_id_ = -1;
  broken_ = true;
  if (first) first->written = false;
  if (!valid_client_name(options.client_name)) {
    error_text_ = "client_name may not contain spaces or newlines";
    return make_error_code(errc::usage);
  }
  if (auto ec = socket_.connect(options.host, options.port, deadline, options.socket)) return ec;
  broken_ = false;
  // One write: the handshake, then (when safe) the caller's first batch.
  out_.clear();
  const Handshake h = encode_handshake(options, want_client_id, out_);
  const bool pipelined = first != nullptr && first->n > 0 && h.safe_to_pipeline;
  if (pipelined)
    for (std::size_t i = 0; i < first->n; ++i) first->cmds[i].encode_to(out_);
  if (!out_.empty()) {
    if (pipelined) first->written = true;
    if (auto ec = write(out_, deadline)) return ec;
    trim_out();
  }
  std::error_code handshake_ec;
  for (unsigned i = 0; i < h.replies; ++i) {
    Reply r;
    if (auto ec = read_reply(r, deadline)) return ec;
    if (handshake_ec) continue;  // read the rest: the stream is closed below anyway
    if (r.is_error()) {
      handshake_ec = handshake_refused(r, error_text_);
    } else if (h.has_client_id && i + 1 == h.replies && r.is_integer()) {
      client_id_ = r.integer();
    }
  }
  if (handshake_ec) {
    // The server refused the first batch too (NOAUTH: it runs commands in order); its replies
    // are not read, the connection is closed.
    broken_ = true;
    socket_.close();
    return handshake_ec;
  }
  if (first != nullptr && first->n > 0 && !pipelined) {
    first->written = true;
    return send(first->cmds, first->n, deadline);
  }
  return {};
}

void Connection::trim_out() noexcept {
  // A lean (exclusive) connection usually waits next, perhaps for minutes: it keeps no encode
  // buffer at all, one allocation per command being nothing beside its round trip.
  if (mode_ == ReadBuffer::Lean || out_.capacity() > kKeepOut) {
    std::string().swap(out_);
  } else {
    out_.clear();
  }
}

std::error_code Connection::send(const Command* cmds, std::size_t n, Deadline deadline) {
  if (broken_) return make_error_code(errc::not_connected);
  out_.clear();
  for (std::size_t i = 0; i < n; ++i) cmds[i].encode_to(out_);
  if (auto ec = write(out_, deadline)) return ec;
  trim_out();
  return {};
}

std::error_code Connection::roundtrip(const Command* cmds, std::size_t n, Reply* out, Deadline deadline) {
  if (auto ec = send(cmds, n, deadline)) return ec;
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

std::error_code Connection::read_reply(Reply& out, Deadline deadline, IoCancel* cancel, bool keep_on_interrupt) {
  if (broken_) return make_error_code(errc::not_connected);
  if (mode_ == ReadBuffer::Lean) return read_lean(out, deadline, cancel, keep_on_interrupt);
  return read_owned(out, deadline);
}

std::error_code Connection::read_lean(Reply& out, Deadline deadline, IoCancel* cancel, bool keep_on_interrupt) {
  for (unsigned chunks = 0;;) {
    std::error_code ec;
    if (auto r = reader_.next(ec)) {
      out = std::move(*r);
      reader_.release();  // nothing held while this connection waits again
      return {};
    }
    if (ec) {
      error_text_ = reader_.error_text();
      return fail(ec);
    }
    // A large reply may stream in as fast as it is read, so this loop may never wait: its
    // deadline is checked here, mid-transfer, and the call ends at it.
    if (chunks > 0 && expired(deadline)) {
      if (keep_on_interrupt) return make_error_code(errc::timeout);  // reply_pending() tells
      return fail(make_error_code(errc::timeout));
    }
    std::size_t n = 0;
    if (auto rec = socket_.recv_now(scratch(), kScratch, n)) return fail(rec);
    if (n > 0) {
      reader_.feed(scratch(), n);
      if (++chunks % 16 == 0) boost::this_fiber::yield();  // every 1 MiB, the others get a turn
      continue;
    }
    reader_.release();  // a wait that may last minutes holds no reader (unless mid-reply)
    if (auto wec = socket_.wait_readable(deadline, cancel)) {
      // The poll ended without reading: the stream is intact, and a caller that can tell the
      // server to stop (CLIENT UNBLOCK) may read on; reply_pending() says whether part of a
      // reply is in already (then the server is past blocking, and sending).
      if (keep_on_interrupt && (wec == errc::timeout || wec == errc::call_cancelled)) return wec;
      return fail(wec);
    }
  }
}

std::error_code Connection::read_owned(Reply& out, Deadline deadline) {
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
      last_read_ = Clock::now();
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
