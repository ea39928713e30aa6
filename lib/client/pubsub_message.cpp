#include <fibredis/client/pubsub_message.hpp>

#include <array>
#include <utility>

namespace fibredis {

namespace {

struct KindName {
  MessageKind kind;
  std::string_view name;
};

constexpr std::array<KindName, 13> kKinds{{
    {MessageKind::Message, "message"},
    {MessageKind::PMessage, "pmessage"},
    {MessageKind::SMessage, "smessage"},
    {MessageKind::Subscribe, "subscribe"},
    {MessageKind::Unsubscribe, "unsubscribe"},
    {MessageKind::PSubscribe, "psubscribe"},
    {MessageKind::PUnsubscribe, "punsubscribe"},
    {MessageKind::SSubscribe, "ssubscribe"},
    {MessageKind::SUnsubscribe, "sunsubscribe"},
    {MessageKind::Pong, "pong"},
    {MessageKind::Error, "error"},
    {MessageKind::Gap, "gap"},
    {MessageKind::Overflow, "overflow"},
}};

std::optional<MessageKind> kind_of(std::string_view name) {
  // The server spells them in lower case; compare without allocating.
  for (const KindName& k : kKinds) {
    if (k.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == k.name[i];
    }
    if (same) return k.kind;
  }
  return std::nullopt;
}

bool is_text(const Reply& r) { return r.is_string() || r.is_status(); }

}  // namespace

std::string_view to_string(MessageKind kind) noexcept {
  for (const KindName& k : kKinds)
    if (k.kind == kind) return k.name;
  return "unknown";
}

std::optional<Message> parse_push(Reply&& reply) {
  Message m;
  if (reply.is_error()) {
    m.kind = MessageKind::Error;
    m.data = reply.take_str();
    return m;
  }
  if (!reply.is_array()) return std::nullopt;
  std::vector<Reply>& e = reply.elements();
  if (e.empty() || !is_text(e[0])) return std::nullopt;
  const std::optional<MessageKind> kind = kind_of(e[0].str());
  if (!kind || *kind == MessageKind::Error || *kind == MessageKind::Gap || *kind == MessageKind::Overflow)
    return std::nullopt;
  m.kind = *kind;
  switch (m.kind) {
    case MessageKind::Message:
    case MessageKind::SMessage:
      if (e.size() != 3 || !is_text(e[1]) || !is_text(e[2])) return std::nullopt;
      m.channel = e[1].take_str();
      m.data = e[2].take_str();
      return m;
    case MessageKind::PMessage:
      if (e.size() != 4 || !is_text(e[1]) || !is_text(e[2]) || !is_text(e[3])) return std::nullopt;
      m.pattern = e[1].take_str();
      m.channel = e[2].take_str();
      m.data = e[3].take_str();
      return m;
    case MessageKind::Pong:
      // ["pong", ""] in subscribed mode; a PING sent before the first SUBSCRIBE answers +PONG,
      // which is not an array and never reaches here.
      if (e.size() != 2 || !is_text(e[1])) return std::nullopt;
      m.data = e[1].take_str();
      return m;
    default:
      // Confirmations: [kind, name or nil, count]. UNSUBSCRIBE with nothing subscribed answers a
      // nil name.
      if (e.size() != 3 || !e[2].is_integer() || !(is_text(e[1]) || e[1].is_nil())) return std::nullopt;
      if (!e[1].is_nil()) m.channel = e[1].take_str();
      m.count = e[2].integer();
      return m;
  }
}

}  // namespace fibredis
