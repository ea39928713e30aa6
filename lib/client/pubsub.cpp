#include <fibredis/client/pubsub.hpp>

#include <fibredis/detail/client/message_queue.hpp>
#include <fibredis/detail/client/pubsub_link.hpp>
#include <fibredis/errors.hpp>

#include <utility>

namespace fibredis {

struct PubSub::State {
  Chooser chooser;
  PubSubOptions options;
  MessageQueue queue;
  std::unique_ptr<PubSubLink> link;
  std::string first_name;  // what the chooser is asked with at every (re)connect

  State(Chooser c, PubSubOptions o) : chooser(std::move(c)), options(o), queue(o.max_queued) {}

  PubSubLink& ensure_link() {
    if (!link)
      link = std::make_unique<PubSubLink>([this] { return chooser(first_name); }, options,
                                          [this](PubSubLink&, Message&& m) { queue.push(std::move(m)); });
    return *link;
  }
};

namespace {
std::vector<std::string> to_vector(const ArgList& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (std::string_view n : names) out.emplace_back(n);
  return out;
}
const std::set<std::string>& empty_set() {
  static const std::set<std::string> none;
  return none;
}
}  // namespace

PubSub::PubSub(Options node, PubSubOptions options)
    : PubSub([node = std::move(node)](const std::string&) { return node; }, options) {}

PubSub::PubSub(Chooser chooser, PubSubOptions options)
    : s_(std::make_unique<State>(std::move(chooser), options)) {}

PubSub::~PubSub() = default;
PubSub::PubSub(PubSub&&) noexcept = default;
PubSub& PubSub::operator=(PubSub&&) noexcept = default;

void PubSub::add(SubscriptionKind kind, const ArgList& names) {
  if (names.empty()) throw UsageError(std::string(kind == SubscriptionKind::Pattern ? "PSUBSCRIBE" : "SUBSCRIBE") +
                                      " needs at least one name");
  if (s_->first_name.empty() || !s_->link || s_->link->empty()) s_->first_name = std::string(*names.begin());
  PubSubLink& link = s_->ensure_link();
  link.subscribe(kind, to_vector(names));
  if (link.connected()) return;
  if (auto ec = link.start()) {
    const std::string text = link.error_text();
    link.forget(kind, to_vector(names));
    throw_error(ec, "pubsub " + link.address() + (text.empty() ? "" : ": " + text));
  }
}

void PubSub::remove(SubscriptionKind kind, const ArgList& names) {
  if (!s_->link) return;
  s_->link->unsubscribe(kind, to_vector(names));
}

void PubSub::subscribe(const ArgList& channels) { add(SubscriptionKind::Channel, channels); }
void PubSub::unsubscribe(const ArgList& channels) { remove(SubscriptionKind::Channel, channels); }
void PubSub::psubscribe(const ArgList& patterns) { add(SubscriptionKind::Pattern, patterns); }
void PubSub::punsubscribe(const ArgList& patterns) { remove(SubscriptionKind::Pattern, patterns); }

void PubSub::ping(std::string_view arg) {
  if (!s_->link || !s_->link->connected()) throw UsageError("PubSub::ping: not connected (subscribe first)");
  s_->link->ping(arg);
}

std::optional<Message> PubSub::get_message(std::chrono::milliseconds timeout) {
  return s_->queue.pop(deadline_after(timeout));
}

void PubSub::set_handler(std::function<void(Message&&)> handler) { s_->queue.set_handler(std::move(handler)); }

const std::set<std::string>& PubSub::channels() const {
  return s_->link ? s_->link->names(SubscriptionKind::Channel) : empty_set();
}
const std::set<std::string>& PubSub::patterns() const {
  return s_->link ? s_->link->names(SubscriptionKind::Pattern) : empty_set();
}
bool PubSub::subscribed() const noexcept { return s_->link && !s_->link->empty(); }
std::string PubSub::address() const { return s_->link ? s_->link->address() : std::string(); }
std::uint64_t PubSub::reconnects() const noexcept { return s_->link ? s_->link->reconnects() : 0; }
std::uint64_t PubSub::dropped() const noexcept { return s_->queue.dropped(); }

void PubSub::close() { s_->link.reset(); }

}  // namespace fibredis
