// pubsub: classic, pattern and sharded pub/sub on a Redis Cluster, checked end to end.
//
// Usage: pubsub --cluster HOST:PORT [--channels N]
//
// Subscribes to N channels (default 20) spread over the slots (each ClusterPubSub sits on its
// channel's slot owner), a pattern, and the same channels as shard channels; publishes to each
// and checks that every subscriber got exactly what was sent to it, and that the pattern got only
// its matches. Exits 1 when a check fails, 2 on bad arguments.
#include <fibredis/fibredis.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::cerr << "pubsub: CHECK FAILED: " << what << "\n";
  }
}

// Data messages of `sub` until `want` arrived or 2 s of silence.
template <class Sub>
std::vector<fibredis::Message> drain(Sub& sub, std::size_t want) {
  std::vector<fibredis::Message> out;
  while (out.size() < want) {
    auto m = sub.get_message(2s);
    if (!m) break;
    if (m->is_data()) out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<fibredis::NodeAddress> seed;
  int n = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cluster") seed = fibredis::NodeAddress::parse(argv[i + 1]);
    else if (flag == "--channels") n = std::atoi(argv[i + 1]);
  }
  if (!seed || n <= 0) {
    std::cerr << "usage: pubsub --cluster HOST:PORT [--channels N]\n";
    return 2;
  }
  fibredis::Runtime rt;
  try {
    rt.run([&] {
      fibredis::ClusterClient rc({.startup_nodes = {*seed}});

      // Classic channels: one subscriber per channel, on the channel's slot owner.
      std::vector<std::unique_ptr<fibredis::ClusterPubSub>> subs;
      std::set<fibredis::NodeAddress> nodes;
      for (int i = 0; i < n; ++i) {
        subs.push_back(std::make_unique<fibredis::ClusterPubSub>(rc));
        const std::string ch = "demo:chan:" + std::to_string(i);
        subs.back()->subscribe(ch);
        nodes.insert(rc.get_node_from_key(ch));
        auto conf = subs.back()->get_message(2s);
        check(conf && conf->kind == fibredis::MessageKind::Subscribe, ch + " confirmed");
      }
      fibredis::ClusterPubSub pattern = rc.pubsub();
      pattern.psubscribe("demo:chan:1*");
      check(pattern.get_message(2s).has_value(), "pattern confirmed");
      int matching = 0;
      for (int i = 0; i < n; ++i) {
        const std::string ch = "demo:chan:" + std::to_string(i);
        // PUBLISH counts the subscribers of the node that took it: ours sits there.
        check(rc.publish(ch, "hello " + ch) >= 1, "PUBLISH " + ch + " reached its subscriber's node");
        matching += std::to_string(i).front() == '1' ? 1 : 0;
      }
      int exact = 0;
      for (int i = 0; i < n; ++i) {
        const std::string ch = "demo:chan:" + std::to_string(i);
        auto got = drain(*subs[i], 1);
        const bool ok = got.size() == 1 && got[0].channel == ch && got[0].data == "hello " + ch;
        exact += ok ? 1 : 0;
        check(ok, ch + " got exactly its message");
      }
      auto pat = drain(pattern, static_cast<std::size_t>(matching));
      bool only_matches = pat.size() == static_cast<std::size_t>(matching);
      for (const auto& m : pat) only_matches = only_matches && m.channel.rfind("demo:chan:1", 0) == 0;
      check(only_matches && !pattern.get_message(200ms), "the pattern got its matches only");
      std::cout << "classic: " << exact << "/" << n << " subscribers exact, on " << nodes.size()
                << " nodes; pattern demo:chan:1* got " << pat.size() << " of " << matching << " matches\n";

      // Sharded: the same names as shard channels, one connection per owning primary.
      fibredis::ShardedPubSub sharded = rc.sharded_pubsub();
      std::vector<std::string> names;
      for (int i = 0; i < n; ++i) names.push_back("demo:shard:" + std::to_string(i));
      sharded.ssubscribe(names);
      for (const auto& ch : names) check(sharded.node_of(ch) == rc.get_node_from_key(ch), ch + " on its slot's primary");
      std::size_t confirmed = 0;
      while (confirmed < names.size()) {
        auto m = sharded.get_message(2s);
        if (!m) break;
        confirmed += m->kind == fibredis::MessageKind::SSubscribe ? 1 : 0;
      }
      check(confirmed == names.size(), "every SSUBSCRIBE confirmed");
      for (const auto& ch : names) check(sharded.spublish(ch, "s:" + ch) == 1, "SPUBLISH " + ch + " counted 1");
      auto smsgs = drain(sharded, names.size());
      std::set<std::string> got;
      for (const auto& m : smsgs)
        if (m.kind == fibredis::MessageKind::SMessage && m.data == "s:" + m.channel) got.insert(m.channel);
      check(got.size() == names.size(), "every shard channel got its message");
      std::cout << "sharded: " << got.size() << "/" << names.size() << " shard channels got their SPUBLISH\n";
    });
  } catch (const fibredis::Error& e) {
    std::cerr << "pubsub: " << e.what() << "\n";
    return 1;
  }
  if (failures != 0) {
    std::cerr << "pubsub: " << failures << " checks failed\n";
    return 1;
  }
  std::cout << "pubsub: all checks passed\n";
  return 0;
}
