#include <fibredis/cluster/keyspace_events.hpp>

#include <fibredis/detail/client/link_keeper.hpp>
#include <fibredis/detail/client/message_queue.hpp>
#include <fibredis/detail/client/pubsub_link.hpp>
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace fibredis {

struct KeyspaceEvents::State {
  ClusterClient& rc;
  std::string pattern;
  KeyspaceOptions options;
  MessageQueue queue;
  std::map<NodeAddress, std::unique_ptr<PubSubLink>> links;
  std::set<NodeAddress> confirmed;
  std::map<NodeAddress, Clock::time_point> joined_since;  // new primaries: Gap due at confirmation
  Clock::time_point last_look{};  // when the keeper last compared the map with the links
  LinkKeeper keeper;  // compares the client's slot map with the nodes subscribed to

  State(ClusterClient& c, std::string p, KeyspaceOptions o)
      : rc(c), pattern(std::move(p)), options(std::move(o)), queue(options.pubsub.max_queued) {}

  ~State() {
    keeper.stop();
    links.clear();
    queue.close();
  }

  void configure(const NodeAddress& node) {
    if (options.configure.empty()) return;
    std::string problem;
    try {
      for (auto& [at, reply] :
           rc.execute_on(Target(node), Command{"CONFIG", "SET", "notify-keyspace-events", options.configure}))
        if (reply.is_error()) problem = std::string(reply.str());
    } catch (const Error& e) {
      problem = e.what();
    }
    if (problem.empty()) return;
    Message m;
    m.kind = MessageKind::Error;
    m.node = node.to_string();
    m.data = "CONFIG SET notify-keyspace-events: " + problem;
    queue.push(std::move(m));
  }

  void on_message(const NodeAddress& node, Message&& m) {
    if (m.kind == MessageKind::PSubscribe && m.channel == pattern) {
      confirmed.insert(node);
      auto j = joined_since.find(node);
      if (j != joined_since.end()) {
        Message g;
        g.kind = MessageKind::Gap;
        g.data = "new primary";
        g.node = node.to_string();
        g.since = j->second;
        g.until = Clock::now();
        g.channels = {pattern};
        joined_since.erase(j);
        queue.push(std::move(g));
        return;
      }
    }
    queue.push(std::move(m));
  }

  void add(const NodeAddress& node, bool wait) {
    configure(node);
    auto link = std::make_unique<PubSubLink>(
        [this, node] { return rc.options().node_options(node); }, options.pubsub,
        [this, node](PubSubLink&, Message&& m) { on_message(node, std::move(m)); },
        [this](PubSubLink&) { keeper.want_refresh(); });
    link->subscribe(SubscriptionKind::Pattern, {pattern});
    if (wait) {
      if (auto ec = link->start())
        throw_error(ec, "keyspace events " + node.to_string() + ": " + link->error_text());
    } else {
      link->launch();
    }
    links.emplace(node, std::move(link));
  }

  void rebalance() {
    const std::vector<NodeAddress> primaries = rc.topology()->primaries();
    const std::set<NodeAddress> want(primaries.begin(), primaries.end());
    for (auto it = links.begin(); it != links.end();) {
      if (want.count(it->first) != 0) {
        ++it;
        continue;
      }
      // No longer a primary (demoted or gone): its events, if any, would repeat the new primary's.
      confirmed.erase(it->first);
      joined_since.erase(it->first);
      it = links.erase(it);
    }
    for (const NodeAddress& node : primaries) {
      if (links.count(node) != 0) continue;
      joined_since[node] = last_look;
      add(node, false);
      if (keeper.stopping()) return;
    }
    last_look = Clock::now();
  }
};

KeyspaceEvents::KeyspaceEvents(ClusterClient& rc, std::string pattern, KeyspaceOptions options)
    : s_(std::make_unique<State>(rc, std::move(pattern), std::move(options))) {
  if (s_->pattern.empty()) throw UsageError("keyspace_events: empty pattern");
  for (const NodeAddress& node : rc.topology()->primaries()) s_->add(node, true);
  s_->last_look = Clock::now();
  State* st = s_.get();
  st->keeper.start({.stale = [st] { return any_link_down(st->links); },
                    .refresh = [st] { st->rc.refresh_topology(); },
                    .rebalance = [st] { st->rebalance(); }});
}

KeyspaceEvents::~KeyspaceEvents() = default;
KeyspaceEvents::KeyspaceEvents(KeyspaceEvents&&) noexcept = default;
KeyspaceEvents& KeyspaceEvents::operator=(KeyspaceEvents&&) noexcept = default;

std::optional<Message> KeyspaceEvents::get_message(std::chrono::milliseconds timeout) {
  return s_->queue.pop(deadline_after(timeout));
}

void KeyspaceEvents::set_handler(std::function<void(Message&&)> handler) {
  s_->queue.set_handler(std::move(handler));
}

std::vector<NodeAddress> KeyspaceEvents::nodes() const {
  std::vector<NodeAddress> out;
  for (const auto& [node, link] : s_->links) out.push_back(node);
  return out;
}

bool KeyspaceEvents::subscribed() const noexcept {
  for (const auto& [node, link] : s_->links)
    if (s_->confirmed.count(node) == 0) return false;
  return !s_->links.empty();
}

const std::string& KeyspaceEvents::pattern() const noexcept { return s_->pattern; }
std::uint64_t KeyspaceEvents::dropped() const noexcept { return s_->queue.dropped(); }

KeyspaceEvents ClusterClient::keyspace_events(std::string pattern, KeyspaceOptions options) {
  return KeyspaceEvents(*this, std::move(pattern), std::move(options));
}

KeyspaceEvents ClusterClient::keyspace_events(std::string pattern) {
  return KeyspaceEvents(*this, std::move(pattern), KeyspaceOptions{});
}

}  // namespace fibredis
