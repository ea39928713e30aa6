// fibredis-bench --workload latency: what a cross-node pipeline costs next to a single-node one,
// the figure behind "a pipeline over N primaries is only as slow as its slowest node" (redis-py-
// cluster's threaded pipeline; ours sends to every node at once, one fiber per node).
//
//   fibredis-bench --workload latency --cluster HOST:PORT [--runs 50] [--serial]
//                  [--keys-per-node 100] [--timeout-ms MS]
//
// Per run: one ClusterPipeline of keys-per-node GETs on each of the (first three) primaries, all
// in one execute() (pipeline_ms); one pipeline of keys-per-node GETs on one primary
// (single_node_ms); one PING (ping_ms). With --serial also the same GETs as one pipeline per node,
// one node after another (serial_ms). Every value read is checked. Prints one JSON line with the
// medians (and minimum and maximum) over the runs. Meant for a cluster behind fibredis-proxy with
// --delay-ms, where the network, not the CPU, sets the times (docs/PROXY.md).
#pragma once

namespace fibredis::bench {

/// True when argv asks for the latency workload (fibredis-bench hands it over then).
bool wants_latency(int argc, char** argv);
/// Runs the latency workload; the process exit code.
int latency_main(int argc, char** argv);

}  // namespace fibredis::bench
