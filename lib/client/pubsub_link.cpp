#include <fibredis/detail/client/pubsub_link.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/resp/command.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <utility>

namespace fibredis {

namespace {

// The keeper's PING argument: its pong is the link's, never the user's.
constexpr std::string_view kHealthArg = "fibredis-health";
// Channels per SUBSCRIBE/PSUBSCRIBE when re-sending a large set (keeps each command's argv small).
constexpr std::size_t kNamesPerCommand = 1000;

const char* subscribe_verb(SubscriptionKind k) {
  switch (k) {
    case SubscriptionKind::Channel: return "SUBSCRIBE";
    case SubscriptionKind::Pattern: return "PSUBSCRIBE";
    case SubscriptionKind::Shard: return "SSUBSCRIBE";
  }
  return "SUBSCRIBE";
}

const char* unsubscribe_verb(SubscriptionKind k) {
  switch (k) {
    case SubscriptionKind::Channel: return "UNSUBSCRIBE";
    case SubscriptionKind::Pattern: return "PUNSUBSCRIBE";
    case SubscriptionKind::Shard: return "SUNSUBSCRIBE";
  }
  return "UNSUBSCRIBE";
}

// Appends VERB names... in commands of at most kNamesPerCommand names; shard channels one per
// command (a multi-channel SSUBSCRIBE must name one slot).
template <class Range>
void encode_names(std::string& out, const char* verb, const Range& names, bool one_per_command) {
  const std::size_t per = one_per_command ? 1 : kNamesPerCommand;
  Command cmd{verb};
  std::size_t in_cmd = 0;
  for (const auto& n : names) {
    cmd.arg(std::string_view(n));
    if (++in_cmd == per) {
      cmd.encode_to(out);
      cmd = Command{verb};
      in_cmd = 0;
    }
  }
  if (in_cmd != 0) cmd.encode_to(out);
}

bool is_confirmation(MessageKind k) {
  switch (k) {
    case MessageKind::Subscribe:
    case MessageKind::Unsubscribe:
    case MessageKind::PSubscribe:
    case MessageKind::PUnsubscribe:
    case MessageKind::SSubscribe:
    case MessageKind::SUnsubscribe:
      return true;
    default:
      return false;
  }
}

}  // namespace

PubSubLink::PubSubLink(Endpoint endpoint, PubSubOptions options, Sink sink, OnDown on_down)
    : endpoint_(std::move(endpoint)), options_(options), sink_(std::move(sink)), on_down_(std::move(on_down)) {}

PubSubLink::~PubSubLink() {
  stopping_ = true;
  connected_ = false;
  if (conn_) conn_->shutdown();
  if (reader_nap_ != nullptr) reader_nap_->unpark();
  if (keeper_nap_ != nullptr) keeper_nap_->unpark();
  for (Fiber* f : {&reader_, &keeper_}) {
    try {
      if (f->joinable()) f->join();
    } catch (const std::exception& e) {
      // Nothing a destructor can do but say so; the fibers catch what they expect themselves.
      std::cerr << "fibredis PubSubLink " << address_ << ": " << e.what() << "\n";
    }
  }
}

std::set<std::string>& PubSubLink::set_of(SubscriptionKind kind) noexcept {
  switch (kind) {
    case SubscriptionKind::Channel: return channels_;
    case SubscriptionKind::Pattern: return patterns_;
    case SubscriptionKind::Shard: return shards_;
  }
  return channels_;
}

const std::set<std::string>& PubSubLink::names(SubscriptionKind kind) const noexcept {
  return const_cast<PubSubLink*>(this)->set_of(kind);
}

bool PubSubLink::empty() const noexcept { return channels_.empty() && patterns_.empty() && shards_.empty(); }

std::error_code PubSubLink::connect_once() {
  conn_options_ = endpoint_();
  address_ = conn_options_.address();
  auto c = std::make_shared<Connection>();
  if (auto ec = c->connect(conn_options_, deadline_after(conn_options_.connect_timeout))) {
    error_text_ = c->error_text();
    return ec;
  }
  conn_ = std::move(c);
  ++generation_;
  pending_.clear();  // bytes meant for the connection before: the re-subscription replaces them
  connected_ = true;
  ping_outstanding_ = false;
  last_read_ = Clock::now();
  return {};
}

std::error_code PubSubLink::start() {
  if (started_) return {};
  if (auto ec = connect_once()) return ec;
  launch();
  send(resubscribe_bytes());
  return {};
}

void PubSubLink::launch() {
  if (started_) return;
  started_ = true;
  reader_ = Fiber([this] { reader_loop(); });
  if (options_.health_check_interval.count() > 0) keeper_ = Fiber([this] { keeper_loop(); });
}

std::string PubSubLink::resubscribe_bytes() const {
  std::string out;
  encode_names(out, "SUBSCRIBE", channels_, false);
  encode_names(out, "PSUBSCRIBE", patterns_, false);
  encode_names(out, "SSUBSCRIBE", shards_, true);
  return out;
}

void PubSubLink::subscribe(SubscriptionKind kind, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::set<std::string>& s = set_of(kind);
  for (const auto& n : names) s.insert(n);
  if (!connected_) return;
  std::string out;
  encode_names(out, subscribe_verb(kind), names, kind == SubscriptionKind::Shard);
  send(std::move(out));
}

void PubSubLink::unsubscribe(SubscriptionKind kind, const std::vector<std::string>& names) {
  std::set<std::string>& s = set_of(kind);
  std::string out;
  if (names.empty()) {
    if (kind == SubscriptionKind::Shard) {
      // SUNSUBSCRIBE without arguments is fine, but say which ones so each gets confirmed.
      encode_names(out, "SUNSUBSCRIBE", s, true);
    } else {
      Command{unsubscribe_verb(kind)}.encode_to(out);
    }
    s.clear();
  } else {
    for (const auto& n : names) s.erase(n);
    encode_names(out, unsubscribe_verb(kind), names, kind == SubscriptionKind::Shard);
  }
  if (connected_ && !out.empty()) send(std::move(out));
}

void PubSubLink::forget(SubscriptionKind kind, const std::vector<std::string>& names) {
  std::set<std::string>& s = set_of(kind);
  for (const auto& n : names) s.erase(n);
}

void PubSubLink::ping(std::string_view arg) {
  if (!connected_) return;
  std::string out;
  Command{"PING", arg}.encode_to(out);
  send(std::move(out));
}

void PubSubLink::send(std::string bytes) {
  if (!connected_ || stopping_) return;
  pending_ += bytes;
  if (writing_) return;  // the fiber writing now takes these too
  drain_writes();
}

void PubSubLink::drain_writes() {
  writing_ = true;
  while (!pending_.empty() && connected_ && !stopping_) {
    std::shared_ptr<Connection> c = conn_;
    std::string buf;
    buf.swap(pending_);
    if (auto ec = c->write(buf, deadline_after(conn_options_.command_timeout))) {
      // A write that failed or timed out leaves the stream unknown: drop the connection; the
      // reader reconnects and re-sends the whole set. Bytes queued for a newer connection stay.
      c->shutdown();
      if (c == conn_) pending_.clear();
    }
  }
  writing_ = false;
}

bool PubSubLink::nap(std::chrono::milliseconds d, Parker*& slot) {
  if (stopping_) return false;
  Parker p;
  slot = &p;
  p.park(deadline_after(d));
  slot = nullptr;
  return !stopping_;
}

void PubSubLink::reader_loop() {
  std::chrono::milliseconds backoff = options_.reconnect_min;
  bool first = !connected_;  // launched without connecting: try at once
  while (!stopping_) {
    if (!connected_) {
      if (!first && !nap(backoff, reader_nap_)) break;
      first = false;
      // Launched without connecting, nothing was ever lost until the first connection is.
      const bool reconnect = lost_at_ != Clock::time_point{};
      if (connect_once()) {
        backoff = std::min(backoff * 2, options_.reconnect_max);
        continue;
      }
      if (stopping_) break;
      backoff = options_.reconnect_min;
      std::string out = resubscribe_bytes();
      if (reconnect) {
        ++reconnects_;
        resubscribing_ = true;
        marker_ = "fibredis-resubscribed-" + std::to_string(generation_);
        Command{"PING", marker_}.encode_to(out);
      }
      send(std::move(out));
      continue;  // the write may have failed already
    }
    std::shared_ptr<Connection> c = conn_;
    Reply r;
    const std::error_code ec = c->read_reply(r, kNoDeadline);
    if (stopping_) break;
    if (ec) {
      connected_ = false;
      resubscribing_ = false;
      lost_at_ = Clock::now();
      if (!c->error_text().empty()) error_text_ = c->error_text();
      c->shutdown();
      if (on_down_) on_down_(*this);
      continue;
    }
    last_read_ = Clock::now();
    ping_outstanding_ = false;  // anything read proves the peer alive
    handle(std::move(r));
  }
}

void PubSubLink::handle(Reply&& reply) {
  std::optional<Message> m;
  if (reply.is_status() || reply.is_string()) {
    // A PING while no subscription is held is answered as on any connection (+PONG, or the
    // argument as a bulk string): nothing else on this connection answers with plain text.
    Message pong;
    pong.kind = MessageKind::Pong;
    if (!(reply.is_status() && reply.str() == "PONG")) pong.data = reply.take_str();
    m = std::move(pong);
  } else {
    m = parse_push(std::move(reply));
  }
  if (!m) {
    // Not pub/sub: the stream is no longer understood. Reconnecting re-establishes it.
    error_text_ = "unexpected reply on a subscribed connection";
    if (conn_) conn_->shutdown();
    return;
  }
  m->node = address_;
  if (m->kind == MessageKind::Pong) {
    if (m->data == kHealthArg) return;
    if (resubscribing_ && m->data == marker_) {
      resubscribing_ = false;
      Message gap;
      gap.kind = MessageKind::Gap;
      gap.data = "reconnected";
      gap.node = address_;
      gap.since = lost_at_;
      gap.until = Clock::now();
      for (const auto* s : {&channels_, &patterns_, &shards_}) gap.channels.insert(gap.channels.end(), s->begin(), s->end());
      sink_(*this, std::move(gap));
      return;
    }
  }
  if (resubscribing_ && is_confirmation(m->kind)) return;  // the Gap event stands for these
  if (m->kind == MessageKind::SUnsubscribe && shards_.erase(m->channel) != 0) m->server_initiated = true;
  sink_(*this, std::move(*m));
}

void PubSubLink::keeper_loop() {
  const auto interval = options_.health_check_interval;
  const auto step = std::max(std::chrono::milliseconds(10), std::min(interval, options_.ping_timeout) / 2);
  while (nap(step, keeper_nap_)) {
    if (!connected_ || !conn_) continue;
    const auto now = Clock::now();
    if (ping_outstanding_) {
      if (now - ping_sent_ >= options_.ping_timeout) {
        // No byte for interval + ping_timeout: a dead peer that sent no RST. The reader wakes
        // with an error and reconnects.
        ping_outstanding_ = false;
        error_text_ = "PING unanswered for " + std::to_string(options_.ping_timeout.count()) + " ms";
        conn_->shutdown();
      }
    } else if (now - last_read_ >= interval) {
      ping_outstanding_ = true;
      ping_sent_ = now;
      std::string out;
      Command{"PING", kHealthArg}.encode_to(out);
      send(std::move(out));
    }
  }
}

}  // namespace fibredis
