// cluster_basic: the seed's usage sample against a cluster (tools/local-cluster start --port 7000).
//
// Usage: cluster_basic [--host 127.0.0.1] [--port 7000]
//
// Connects through one startup node, writes and reads keys that land on different primaries, shows
// the routing (slot → node), a fan-out with a merge, per-node answers and a cross-slot helper.
#include <fibredis/fibredis.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 7000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
  }
  fibredis::Runtime rt;
  try {
    rt.run([&] {
      fibredis::ClusterClient rc({.startup_nodes = {{host, static_cast<std::uint16_t>(port)}}});
      std::cout << "primaries: " << rc.get_primaries().size() << ", replicas: " << rc.get_replicas().size() << "\n";
      for (const char* key : {"foo", "bar", "baz"}) {
        rc.set(key, std::string("value-of-") + key);
        std::cout << key << " (slot " << fibredis::key_slot(key) << ", " << rc.get_node_from_key(key).to_string()
                  << ") -> " << rc.get(key).value_or("(nil)") << "\n";
      }
      std::cout << "DBSIZE summed over primaries: " << rc.dbsize() << "\n";
      for (const auto& [node, pong] : rc.on(fibredis::Target::AllNodes).ping())
        std::cout << "PING " << node.to_string() << " -> " << pong << "\n";
      auto values = rc.mget_nonatomic({"foo", "bar", "baz"});
      std::cout << "mget_nonatomic: " << values.size() << " values, bar -> " << values[1].value_or("(nil)") << "\n";
      std::cout << "DEL across slots: " << rc.del({"foo", "bar", "baz"}) << " keys\n";
    });
  } catch (const fibredis::Error& e) {
    std::cerr << "cluster_basic: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
