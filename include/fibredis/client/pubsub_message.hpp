// PubSub messages: what a subscribed connection hands to the user, and how a RESP2 push becomes one.
//
// A subscribed connection (RESP2) receives arrays: ["message", channel, data], ["pmessage",
// pattern, channel, data], ["smessage", channel, data], the (un)subscribe confirmations
// [kind, name, count], and ["pong", data] for a PING sent while subscribed. fibredis adds its own
// events to the same stream, so a consumer sees the loss windows in order with the data: Gap (a
// connection was lost and re-subscribed, or shard channels moved to a new owner) and Overflow
// (the consumer fell behind and the oldest queued messages were dropped).
//
// Nothing here touches a socket or a fiber.
#pragma once

#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis {

enum class MessageKind : std::uint8_t {
  Message,       ///< a PUBLISH to a subscribed channel: channel, data
  PMessage,      ///< a PUBLISH matching a pattern: pattern, channel, data
  SMessage,      ///< an SPUBLISH to a subscribed shard channel: channel, data
  Subscribe,     ///< confirmations: channel (the pattern for the P forms), count = subscriptions
  Unsubscribe,   ///< the connection now holds
  PSubscribe,
  PUnsubscribe,
  SSubscribe,
  SUnsubscribe,
  Pong,          ///< answer to PubSub::ping(): data = its argument
  Error,         ///< the server refused a command sent on the subscribed connection: data = its text
  /// Messages may have been lost: the connection was down (or the shard channels' owner changed)
  /// from `since` to `until`; `channels` lists what was re-subscribed, data says why
  /// ("reconnected", "slot moved", "new primary"). Anything published in that window may be missing.
  Gap,
  /// The consumer fell behind: `count` of the oldest queued messages were dropped.
  Overflow,
};

/// The name of a kind as the server spells it ("message", "psubscribe"...), or "gap"/"overflow".
std::string_view to_string(MessageKind kind) noexcept;

struct Message {
  MessageKind kind = MessageKind::Message;
  std::string channel;  ///< the channel; for (p)(un)subscribe confirmations the name confirmed
  std::string pattern;  ///< PMessage only: the pattern that matched
  std::string data;     ///< the payload; Pong: its argument; Error: the server's text; Gap: why
  /// Confirmations: subscriptions the connection holds now. Overflow: messages dropped.
  long long count = 0;
  /// SUnsubscribe that the server sent on its own (the slot moved away or the node lost it):
  /// the subscription is gone although nobody asked.
  bool server_initiated = false;
  /// "host:port" of the connection that delivered it (empty for Overflow).
  std::string node;
  /// Gap only: the loss window and the names re-subscribed.
  Clock::time_point since{};
  Clock::time_point until{};
  std::vector<std::string> channels;

  /// Message, PMessage or SMessage.
  bool is_data() const noexcept {
    return kind == MessageKind::Message || kind == MessageKind::PMessage || kind == MessageKind::SMessage;
  }
};

/// The message a push reply carries; std::nullopt when the reply has no pub/sub shape (a consumer
/// treats that as a protocol error). An error reply becomes MessageKind::Error.
std::optional<Message> parse_push(Reply&& reply);

}  // namespace fibredis
