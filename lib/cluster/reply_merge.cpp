#include <fibredis/cluster/reply_merge.hpp>

#include <fibredis/errors.hpp>

#include <algorithm>
#include <optional>

namespace fibredis {

Reply merge_replies(MergePolicy policy, NodeReplies&& replies) {
  for (auto& [node, reply] : replies)
    if (reply.is_error()) return std::move(reply);
  if (replies.empty()) return Reply::nil();
  switch (policy) {
    case MergePolicy::Sum: {
      long long total = 0;
      for (auto& [node, reply] : replies) total += reply.as_integer();
      return Reply::integer(total);
    }
    case MergePolicy::Concat: {
      std::vector<Reply> all;
      for (auto& [node, reply] : replies) {
        if (!reply.is_array()) throw ProtocolError("expected an array from " + node.to_string() + ", got " + reply.to_string());
        for (Reply& e : reply.elements()) all.push_back(std::move(e));
      }
      return Reply::array(std::move(all));
    }
    case MergePolicy::ConcatUnique: {
      std::vector<Reply> all;
      for (auto& [node, reply] : replies)
        for (Reply& e : reply.elements())
          if (std::find(all.begin(), all.end(), e) == all.end()) all.push_back(std::move(e));
      return Reply::array(std::move(all));
    }
    case MergePolicy::AllTrue: {
      std::vector<Reply> merged = std::move(replies.front().second.elements());
      for (std::size_t n = 1; n < replies.size(); ++n) {
        const auto& other = replies[n].second.elements();
        if (other.size() != merged.size()) throw ProtocolError("fan-out replies differ in length");
        for (std::size_t i = 0; i < merged.size(); ++i)
          if (other[i].as_integer() == 0) merged[i] = Reply::integer(0);
      }
      return Reply::array(std::move(merged));
    }
    case MergePolicy::AllOk:
    case MergePolicy::First:
      return std::move(replies.front().second);
    case MergePolicy::PerNode:
    default: {
      std::vector<Reply> pairs;
      pairs.reserve(replies.size());
      for (auto& [node, reply] : replies)
        pairs.push_back(Reply::array({Reply::string(node.to_string()), std::move(reply)}));
      return Reply::array(std::move(pairs));
    }
  }
}

PerNode<Reply> per_node_replies(Reply&& merged) {
  if (merged.is_error()) throw_reply_error(merged.str());
  if (!merged.is_array()) throw ProtocolError("expected [node, reply] pairs, got " + merged.to_string());
  PerNode<Reply> out;
  for (Reply& pair : merged.elements()) {
    std::optional<NodeAddress> node;
    if (pair.is_array() && pair.elements().size() == 2 && pair.elements()[0].is_string())
      node = NodeAddress::parse(pair.elements()[0].str());
    if (!node) throw ProtocolError("expected a [\"host:port\", reply] pair, got " + pair.to_string());
    out.insert_or_assign(std::move(*node), std::move(pair.elements()[1]));
  }
  return out;
}

}  // namespace fibredis
