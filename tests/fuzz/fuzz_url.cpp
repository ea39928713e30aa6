// libFuzzer target: the URL parsers, Options::from_url and ClusterOptions::from_url.
//
// Any text must either parse or throw UsageError (nothing else, no crash); a URL that parses must
// parse the same way through both and name a host (the default one when the URL has none).
#include <fibredis/cluster/cluster_options.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace fibredis;

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "URL parser invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  Options single;
  bool single_ok = true;
  try {
    single = Options::from_url(url);
  } catch (const UsageError&) {
    single_ok = false;
  }
  ClusterOptions cluster;
  bool cluster_ok = true;
  try {
    cluster = ClusterOptions::from_url(url);
  } catch (const UsageError&) {
    cluster_ok = false;
  }
  if (!single_ok) return 0;
  check(!single.host.empty(), "a parsed URL names a host");
  if (cluster_ok) {
    check(cluster.startup_nodes.size() == 1, "one startup node");
    check(cluster.startup_nodes[0].host == single.host, "same host both ways");
    check(cluster.startup_nodes[0].port == single.port, "same port both ways");
    check(cluster.username == single.username && cluster.password == single.password,
          "same credentials both ways");
  }
  return 0;
}
