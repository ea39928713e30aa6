// RetryLoop (detail/cluster/retry_loop.hpp): single commands' retries, and the steps that
// transactions, WATCH and pipelines share with them (follow_redirect, refresh_after_fault,
// back-off, the final error).
#include <fibredis/detail/cluster/retry_loop.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_registry.hpp>
#include <fibredis/detail/cluster/router.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/resp/error_reply.hpp>
#include <fibredis/errors.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>

namespace fibredis {

namespace {
// Every pass of a retry loop that does not return waits or makes a round trip, so the deadline
// ends it; this count is a last guard against a deadline of never.
constexpr long kMaxPasses = 1'000'000;
}  // namespace

RetryPolicy RetryLoop::policy() const noexcept { return {c_.options_.max_redirects, c_.options_.retry_unknown_writes}; }

bool RetryLoop::target_for_slot(std::uint16_t slot, bool read, RetryState& s, Attempt& a, NodeAddress& target) {
  if (s.ask_target) {
    target = *s.ask_target;
    return true;
  }
  const auto topology = c_.holder_->current();
  if (const Shard* shard = topology->shard_for_slot(slot)) {
    target = read ? c_.router_->pick_for_read(*shard) : shard->primary;
    a.via_replica = !(target == shard->primary);
    return true;
  }
  // Uncovered right now (a failover in progress).
  a.outcome = Outcome::SlotNotCovered;
  s.last_problem = "slot " + std::to_string(slot) + " not covered";
  return false;
}

std::error_code RetryLoop::send(const Command& cmd, const NodeAddress& target, Deadline deadline, Attempt& a,
                                RetryState& s, Reply& reply) {
  // This frame sits under every parked blocking call (10,000 of them at once in a swarm), so the
  // rare paths (ASK, the fault's words) live in their own frames: one stack page per parked call
  // holds only while the deepest path of a call stays inside it (docs/BENCHMARKS.md).
  const std::error_code ec = s.ask_target ? send_asking(cmd, target, deadline, a, s, reply)
                                          : c_.run_on(target, &cmd, 1, &reply, deadline, &a.written, false, a.via_replica);
  a.outcome = ec ? classify_failure(ec) : classify_outcome(reply);
  if (ec || a.outcome != Outcome::Final) note_problem(ec, target, reply, s);
  return ec;
}

std::error_code RetryLoop::send_asking(const Command& cmd, const NodeAddress& target, Deadline deadline, Attempt& a,
                                       RetryState& s, Reply& reply) {
  // ASK: this one command, once, at the importing node, preceded by ASKING (spec §ASK).
  Command batch[2] = {Command{"ASKING"}, cmd};
  Reply replies[2];
  const std::error_code ec = c_.run_on(target, batch, 2, replies, deadline, &a.written);
  reply = std::move(replies[1]);
  s.ask_target.reset();
  return ec;
}

void RetryLoop::note_problem(std::error_code ec, const NodeAddress& target, const Reply& reply, RetryState& s) {
  if (ec) {
    s.last_problem = target.to_string() + ": " + ec.message();
  } else {
    s.last_problem = std::string(reply.str());
  }
}

Reply RetryLoop::execute_on_slot(const Command& cmd, std::uint16_t slot, bool read_only, Deadline deadline) {
  const RetryPolicy rules = policy();
  RetryState s;
  for (long pass = 0; pass < kMaxPasses; ++pass) {
    const std::uint64_t version = c_.holder_->version();
    Attempt a{.read_only = read_only, .redirects = s.redirects};
    NodeAddress target;
    Reply reply;
    std::error_code ec;
    if (target_for_slot(slot, read_only && !s.primary_only, s, a, target)) ec = send(cmd, target, deadline, a, s, reply);
    const Decision d = decide(rules, a);
    if (d.action == Action::Done) return reply;
    retry_after(d, a, cmd, ec, target, &reply, version, deadline, s);
  }
  give_up(cmd, Outcome::Timeout, make_error_code(errc::timeout), NodeAddress{}, s.last_problem);
}

void RetryLoop::retry_after(const Decision& d, const Attempt& a, const Command& what, std::error_code ec,
                            const NodeAddress& target, const Reply* answer, std::uint64_t version, Deadline deadline,
                            RetryState& s) {
  if (d.suspect_node) c_.mark_suspect(target);
  if (d.action == Action::GiveUp) give_up(what, a.outcome, ec, target, s.last_problem);
  if (d.redirect) {
    ++c_.stats_.redirects;
    ++s.redirects;
    follow_redirect(*answer, target, a.outcome == Outcome::Ask, version, deadline, s.ask_target);
  } else {
    ++c_.stats_.retries;
  }
  if (d.primary_only) {
    // A replica failed the read: the primary is the next try, at once (no refresh, no pause).
    s.primary_only = true;
    return;
  }
  if (d.refresh == Refresh::Wait) {
    refresh_after_fault(version, deadline);
  } else if (d.refresh == Refresh::Background) {
    c_.request_background_refresh();
  }
  if (d.back_off) backoff(s.faults++, deadline);
  if (expired(deadline)) give_up(what, a.outcome, ec ? ec : make_error_code(errc::timeout), target, s.last_problem);
}

void RetryLoop::follow_redirect(const Reply& reply, const NodeAddress& from, bool ask, std::uint64_t version,
                                Deadline deadline, std::optional<NodeAddress>& ask_target) {
  auto r = parse_redirect(reply.str());  // classify_outcome checked it parses
  if (r->host.empty()) r->host = from.host;
  NodeAddress to{r->host, r->port};
  if (c_.options_.address_remap) to = c_.options_.address_remap(to);
  if (ask) {
    ask_target = to;
    return;
  }
  // Patched at once; a full refresh only when the holder says one is due (its MOVED back-off).
  if (c_.holder_->moved(r->slot, to)) refresh_after_fault(version, deadline);
  // Go where the server says even if the refreshed map still disagrees (it converges).
  if (auto s = c_.holder_->current()->shard_for_slot(r->slot); !s || !(s->primary == to)) c_.holder_->move_slot(r->slot, to);
}

void RetryLoop::refresh_after_fault(std::uint64_t seen_version, Deadline deadline) {
  c_.holder_->refresh(seen_version, deadline);  // a failure here shows up as the retry's own error
}

Reply RetryLoop::execute_on_one(const Command& cmd, const NodeAddress& target, Deadline deadline, bool any_primary) {
  const RetryPolicy rules = policy();
  const CommandInfo* info = lookup_command(cmd);
  NodeAddress to = target;
  for (int faults = 0; faults < 1'000'000; ++faults) {
    Reply reply;
    const std::uint64_t version = c_.holder_->version();
    Attempt a{.read_only = info != nullptr && info->has(kReadOnly), .fixed_node = true};
    std::error_code ec = c_.run_on(to, &cmd, 1, &reply, deadline, &a.written);
    if (!ec) return reply;
    a.outcome = classify_failure(ec);
    const Decision d = decide(rules, a);
    if (d.suspect_node) c_.mark_suspect(to);
    // A command for one chosen node cannot go elsewhere; a keyless one may run on any primary.
    if (d.action != Action::Retry || !any_primary) fail(ec, to, cmd.name());
    ++c_.stats_.retries;
    refresh_after_fault(version, deadline);
    backoff(faults, deadline);
    if (expired(deadline)) fail(ec, to, cmd.name());
    to = c_.router_->random_primary();
    if (target == c_.router_->default_node()) c_.router_->set_default_node(to);
  }
  fail(make_error_code(errc::timeout), to, cmd.name());
}

void RetryLoop::backoff(int attempt, Deadline deadline) {
  boost::this_fiber::sleep_until(std::min(deadline, deadline_after(backoff_delay(attempt))));
}

[[noreturn]] void RetryLoop::fail(std::error_code ec, const NodeAddress& node, std::string_view what) {
  if (ec == errc::auth_failed) {
    const std::string& text = c_.nodes_->node(node).error_text();
    throw AuthenticationError((text.empty() ? std::string("authentication failed") : text) + " (" + node.to_string() + ")", ec);
  }
  if (classify_failure(ec) == Outcome::Timeout) ++c_.stats_.timeouts;
  // A protocol error keeps the parser's words (see Client::fail).
  const std::string& words = c_.nodes_->node(node).error_text();
  if (ec == errc::protocol_error && !words.empty())
    throw_error(ec, ascii_upper(what) + " on " + node.to_string() + ": " + words);
  throw_error(ec, ascii_upper(what) + " on " + node.to_string());
}

[[noreturn]] void RetryLoop::give_up(const Command& cmd, Outcome outcome, std::error_code ec, const NodeAddress& node,
                                     const std::string& last_problem) {
  const std::string name = ascii_upper(cmd.name());
  switch (outcome) {
    case Outcome::ConnectionError:
    case Outcome::Timeout:
    case Outcome::Fatal:
      fail(ec, node, cmd.name());
    case Outcome::Moved:
    case Outcome::Ask:
      throw RedirectLimitError(name + ": TTL exhausted after " + std::to_string(c_.options_.max_redirects) +
                               " sends (last: " + last_problem + ")");
    case Outcome::SlotNotCovered:
      throw SlotNotCoveredError(name + ": " + last_problem + " by any node");
    case Outcome::ClusterDown:
      throw ClusterDownError(name + ": deadline passed while the cluster was down (last: " + last_problem + ")");
    case Outcome::TryAgain:
      throw TryAgainError(name + ": deadline passed while retrying (last: " + last_problem + ")");
    default:
      ++c_.stats_.timeouts;
      throw TimeoutError(name + " deadline passed while retrying (last: " + last_problem + ")");
  }
}

}  // namespace fibredis
