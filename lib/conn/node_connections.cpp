#include <fibredis/detail/conn/node_connections.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/runtime/cancel.hpp>
#include <fibredis/detail/runtime/io_call.hpp>

#include <algorithm>

namespace fibredis {

namespace {
// How long a cancelled blocked call waits for the server's answer to CLIENT UNBLOCK (the nil, or
// the element it popped in the race). Bounded: a server that does not answer in this time costs
// the connection, not the caller's time.
constexpr std::chrono::milliseconds kUnblockGrace{200};
// How long an interrupted call waits for the rest of a reply that had begun to arrive.
constexpr std::chrono::milliseconds kFinishGrace{10};
// ... and for an answer the server had already started when CLIENT UNBLOCK found it not blocked.
constexpr std::chrono::milliseconds kLateGrace{50};
}  // namespace

std::error_code NodeConnections::run(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                                     bool* written) {
  const bool blocking = std::any_of(cmds, cmds + n, [](const Command& c) { return c.blocking.has_value(); });
  if (!blocking) {
    std::error_code ec = shared_.execute(cmds, n, out, deadline, written);
    if (ec == errc::auth_failed || ec == errc::protocol_error) error_text_ = shared_.last_error_text();
    return ec;
  }
  // A command the server may hold gets a connection of its own: the shared one must keep flowing.
  return run_exclusive(cmds, n, out, deadline, written);
}

std::error_code NodeConnections::run_exclusive(const Command* cmds, std::size_t n, Reply* out,
                                               Deadline deadline, bool* written) {
  if (written) *written = false;
  const CallCancel scope = CallCancel::current();
  if (scope.source && scope.source->cancelled()) return make_error_code(errc::call_cancelled);
  const Deadline d = std::min(deadline, scope.deadline);
  ConnectionPool::Lease lease;
  // A new connection carries the batch in its handshake's write (no extra round trip per
  // connection when ten thousand blocking calls start at once). Not under a CancelScope: a
  // handshake cut short by the scope would close a connection whose BRPOP the server may still
  // run, and an element popped then is lost; sent after the handshake, it is cancellable.
  Connection::FirstBatch first{cmds, n};
  bool sent = false;
  if (std::error_code ec = pool_.acquire(d, lease, scope.active() ? nullptr : &first, &sent)) {
    if (ec == errc::auth_failed || ec == errc::protocol_error) error_text_ = pool_.last_error_text();
    if (written) *written = sent && first.written;
    if (ec == errc::timeout && scope.deadline <= deadline && expired(scope.deadline))
      return make_error_code(errc::call_timeout);
    return ec;
  }
  if (written) *written = true;
  if (!sent) {
    if (std::error_code ec = lease->send(cmds, n, d)) {
      lease->mark_broken();
      return ec;
    }
  }
  // The cancellable wait: one blocking command under a CancelScope, on a connection whose
  // CLIENT ID is known. Anything else waits plainly and loses its connection on a timeout.
  if (n == 1 && cmds[0].blocking && scope.active() && lease->client_id() >= 0)
    return read_cancellable(*lease, out[0], d, deadline, scope);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::error_code ec = lease->read_reply(out[i], d)) {
      lease->mark_broken();  // a late reply would land on a reused connection: never reuse it
      if (ec == errc::protocol_error) error_text_ = lease->error_text();  // the parser's words
      if (ec == errc::timeout && scope.deadline <= deadline && expired(scope.deadline))
        return make_error_code(errc::call_timeout);
      return ec;
    }
  }
  return {};
}

std::error_code NodeConnections::read_cancellable(Connection& conn, Reply& out, Deadline d, Deadline own_deadline,
                                                  const CallCancel& scope) {
  IoCancel cancel;
  if (!cancel.attach(scope.source)) cancel.fired = true;
  std::error_code ec = conn.read_reply(out, d, &cancel, /*keep_on_interrupt=*/true);
  cancel.detach();
  if (!ec) return {};
  const bool by_caller = ec == errc::call_cancelled || (ec == errc::timeout && d < own_deadline);
  if (!by_caller) {
    conn.mark_broken();
    return ec;
  }
  const std::error_code result =
      ec == errc::call_cancelled ? make_error_code(errc::call_cancelled) : make_error_code(errc::call_timeout);
  ClientStats& stats = *stats_;
  ++stats.cancels;
  if (conn.reply_pending()) {
    // The server is past blocking and sending: its answer (the element) is on the way. A small
    // one completes in microseconds and is returned; a large one is not waited for, the call
    // ends now and the half-read connection is dropped.
    Reply rest;
    if (conn.read_reply(rest, deadline_after(kFinishGrace))) {
      conn.mark_broken();
      ++stats.cancel_dropped;
      return result;
    }
    ++stats.cancel_reused;
    if (rest.is_nil()) return result;
    ++stats.cancel_rescued;
    out = std::move(rest);
    return {};
  }
  // The server still holds the command: CLIENT UNBLOCK (TIMEOUT mode, so it answers as if the
  // block time had run out) on the control connection, then read that answer here, so the
  // connection goes back to the pool in step. If the server popped an element first, the
  // element is that answer, and the caller gets it: dropping it would lose a message.
  const Deadline grace = deadline_after(kUnblockGrace);
  const Command unblock = Command{"CLIENT", "UNBLOCK"}.arg(conn.client_id());
  Reply answer;
  std::error_code uec;
  if (shared_.auto_flush()) {
    uec = shared_.execute(&unblock, 1, &answer, grace);
  } else {
    // Manual flush: the shared connection sends only when its owner says so. Use a pooled one.
    ConnectionPool::Lease control;
    uec = pool_.acquire(grace, control);
    if (!uec) uec = control->roundtrip(&unblock, 1, &answer, grace);
    if (uec && control) control->mark_broken();
  }
  if (uec || answer.is_error()) {
    conn.mark_broken();
    ++stats.cancel_dropped;
    return result;
  }
  // UNBLOCK answered 1: the command was blocked, its nil answer is immediate. 0: the server had
  // answered already (the element is on its way); a small answer is here within microseconds,
  // a large one is not waited for beyond kLateGrace (its connection is dropped).
  const Deadline late_deadline = answer.is_integer() && answer.integer() == 0 ? deadline_after(kLateGrace) : grace;
  Reply late;
  if (conn.read_reply(late, late_deadline)) {
    conn.mark_broken();
    ++stats.cancel_dropped;
    return result;
  }
  ++stats.cancel_reused;
  if (late.is_nil()) return result;
  ++stats.cancel_rescued;
  out = std::move(late);
  return {};
}

}  // namespace fibredis
