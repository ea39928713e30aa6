// FanOut (detail/cluster/fan_out.hpp): many nodes or many slots at once.
#include <fibredis/detail/cluster/fan_out.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/retry_loop.hpp>
#include <fibredis/runtime/concurrently.hpp>

#include <iterator>
#include <map>
#include <system_error>

namespace fibredis {

NodeReplies FanOut::execute_on_nodes(const std::vector<NodeAddress>& nodes, const Command& cmd, Deadline deadline) {
  NodeReplies replies(nodes.size());
  std::vector<std::error_code> errors(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) replies[i].first = nodes[i];
  // One fiber per node, all at once; the shared connections batch them. Transport errors are
  // values here (run_on does not throw), reported once every node has answered.
  detail::for_each_concurrently(nodes.size(), [&](std::size_t i) {
    errors[i] = c_.run_on(nodes[i], &cmd, 1, &replies[i].second, deadline);
  });
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (errors[i]) c_.retry_->fail(errors[i], nodes[i], cmd.name());
  return replies;
}

Reply FanOut::execute_on_node(const NodeAddress& node, const Command& cmd, Deadline deadline) {
  Reply reply;
  if (std::error_code ec = c_.run_on(node, &cmd, 1, &reply, deadline)) c_.retry_->fail(ec, node, cmd.name());
  return reply;
}

Reply FanOut::execute_split(const Command& cmd, MergePolicy merge, Deadline deadline) {
  // Group the keys by slot; each group becomes the same command with only its keys.
  std::vector<std::size_t> keys;
  key_positions(cmd, keys);
  std::map<std::uint16_t, Command> parts;
  for (std::size_t k : keys) {
    auto [it, fresh] = parts.try_emplace(key_slot(cmd[k]));
    if (fresh) it->second.arg(cmd.name());
    it->second.arg(cmd[k]);
  }
  std::vector<std::pair<std::uint16_t, const Command*>> by_index;
  for (const auto& [slot, part] : parts) by_index.emplace_back(slot, &part);
  NodeReplies replies(parts.size());
  detail::for_each_concurrently(by_index.size(), [&](std::size_t i) {
    replies[i].second = c_.retry_->execute_on_slot(*by_index[i].second, by_index[i].first, false, deadline);
  });
  return merge_replies(merge, std::move(replies));
}

std::vector<std::optional<std::string>> FanOut::mget(const ArgList& keys, Deadline deadline) {
  std::map<std::uint16_t, std::vector<std::size_t>> by_slot;
  std::size_t idx = 0;
  for (std::string_view k : keys) by_slot[key_slot(k)].push_back(idx++);
  std::vector<std::optional<std::string>> out(idx);
  std::vector<std::pair<std::uint16_t, const std::vector<std::size_t>*>> groups;
  for (const auto& [slot, positions] : by_slot) groups.emplace_back(slot, &positions);
  const std::string_view* key_array = keys.begin();
  detail::for_each_concurrently(groups.size(), [&](std::size_t g) {
    const std::vector<std::size_t>& pos = *groups[g].second;
    Command cmd{"MGET"};
    for (std::size_t p : pos) cmd.arg(key_array[p]);
    Reply r = c_.retry_->execute_on_slot(cmd, groups[g].first, true, deadline);
    auto values = r.as_optional_string_vector();
    for (std::size_t j = 0; j < pos.size() && j < values.size(); ++j) out[pos[j]] = std::move(values[j]);
  });
  return out;
}

void FanOut::mset(const PairList<std::string_view>& kvs, Deadline deadline) {
  std::map<std::uint16_t, Command> parts;
  for (const auto& [k, v] : kvs) {
    auto [it, fresh] = parts.try_emplace(key_slot(k));
    if (fresh) it->second.arg("MSET");
    it->second.arg(k).arg(v);
  }
  std::vector<std::pair<std::uint16_t, const Command*>> by_index;
  for (const auto& [slot, part] : parts) by_index.emplace_back(slot, &part);
  detail::for_each_concurrently(by_index.size(), [&](std::size_t i) {
    c_.retry_->execute_on_slot(*by_index[i].second, by_index[i].first, false, deadline).value();
  });
}

}  // namespace fibredis
