// fibredis-cli: a redis-cli for fibredis, built on the library (Client, or ClusterClient with -c).
//
//   fibredis-cli [-h HOST] [-p PORT] [-c] [-a PASSWORD] [--user USER] [-n DB] [-v] [--raw|--no-raw]
//                [CMD ARG...]                      one command, then exit
//   fibredis-cli -c -p 7000                        interactive: line editing and history (readline)
//   fibredis-cli -c -p 7000 --latency [-i SECS] [--duration SECS]
//   fibredis-cli -c -p 7000 --stat    [-i SECS] [--duration SECS]
//
// Replies print as redis-cli prints them (tools/cli/reply_format.hpp); with -c the cluster client
// routes each command to its slot's node and follows MOVED/ASK itself, and -v tells on stderr which
// node answered. Exit codes: 0 done, 1 cannot reach the server (or lost it, or timed out),
// 2 bad usage, 3 the server (or the cluster client) refused the command (redis-cli 7.0 exits 0
// there, which scripts cannot tell from success).
#include "cli/reply_format.hpp"
#include "cli/split_args.hpp"

#include <fibredis/fibredis.hpp>
#include <fibredis/version.hpp>

#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitConnection = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

struct CliOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  bool cluster = false;
  std::string user;
  std::string password;
  int db = 0;
  bool verbose = false;
  std::optional<bool> raw;  // unset: raw unless stdout is a terminal, as redis-cli decides
  enum class Mode { Command, Interactive, Latency, Stat } mode = Mode::Interactive;
  std::chrono::duration<double> interval{1.0};
  std::optional<std::chrono::duration<double>> duration;  // --latency / --stat: stop after this
  std::vector<std::string> command;
};

void usage(std::ostream& out) {
  out << "Usage: fibredis-cli [OPTIONS] [cmd [arg [arg ...]]]\n"
         "  -h <hostname>      Server hostname (default: 127.0.0.1).\n"
         "  -p <port>          Server port (default: 6379).\n"
         "  -c                 Cluster mode: route by slot, follow -MOVED and -ASK redirections.\n"
         "  -a <password>      Password (AUTH).\n"
         "  --user <username>  ACL user (AUTH username password).\n"
         "  -n <db>            Database number (not in cluster mode).\n"
         "  -v                 Tell on stderr which node answered each command.\n"
         "  --raw              Raw replies (the default when stdout is not a terminal).\n"
         "  --no-raw           Formatted replies even when stdout is not a terminal.\n"
         "  --latency          Sample PING latency; print min, max, avg every interval.\n"
         "  --stat             Print keys, memory, clients, blocked, requests, connections.\n"
         "  -i <seconds>       Interval for --latency and --stat (default: 1).\n"
         "  --duration <secs>  Stop --latency / --stat after this long (default: until Ctrl-C).\n"
         "  --help, --version\n"
         "Without a command: interactive mode with line editing and history\n"
         "(~/.fibredis_cli_history, or $FIBREDIS_CLI_HISTFILE).\n"
         "Exit codes: 0 ok, 1 cannot reach the server, 2 usage, 3 the command was refused.\n";
}

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "fibredis-cli: " << what << "\n(fibredis-cli --help for usage)\n";
  std::exit(kExitUsage);
}

long parse_number(const std::string& text, const char* what, long lo, long hi) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) usage_error(std::string("bad ") + what + " '" + text + "'");
  return v;
}

double parse_seconds(const std::string& text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v > 0)) usage_error(std::string("bad ") + what + " '" + text + "'");
  return v;
}

CliOptions parse_options(int argc, char** argv) {
  CliOptions o;
  int i = 1;
  auto value = [&](const char* flag) -> std::string {
    if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h") o.host = value("-h");
    else if (a == "-p") o.port = static_cast<std::uint16_t>(parse_number(value("-p"), "port", 1, 65535));
    else if (a == "-c") o.cluster = true;
    else if (a == "-a") o.password = value("-a");
    else if (a == "--user") o.user = value("--user");
    else if (a == "-n") o.db = static_cast<int>(parse_number(value("-n"), "database number", 0, 1 << 20));
    else if (a == "-v") o.verbose = true;
    else if (a == "--raw") o.raw = true;
    else if (a == "--no-raw") o.raw = false;
    else if (a == "--latency") o.mode = CliOptions::Mode::Latency;
    else if (a == "--stat") o.mode = CliOptions::Mode::Stat;
    else if (a == "-i") o.interval = std::chrono::duration<double>(parse_seconds(value("-i"), "interval"));
    else if (a == "--duration") o.duration = std::chrono::duration<double>(parse_seconds(value("--duration"), "duration"));
    else if (a == "--help") { usage(std::cout); std::exit(kExitOk); }
    else if (a == "--version") { std::cout << "fibredis-cli " << FIBREDIS_VERSION_STRING << "\n"; std::exit(kExitOk); }
    else if (a.size() > 1 && a[0] == '-' && o.command.empty()) usage_error("unknown option '" + a + "'");
    else break;
  }
  for (; i < argc; ++i) o.command.emplace_back(argv[i]);
  if (!o.command.empty()) {
    if (o.mode != CliOptions::Mode::Interactive) usage_error("--latency and --stat take no command");
    o.mode = CliOptions::Mode::Command;
  }
  if (o.cluster && o.db != 0) usage_error("-n: a cluster has only database 0");
  return o;
}

// One command line's worth of server: the plain client, or the cluster client with -c. Both route
// and retry inside the library; this only adds "which node answered" for -v.
class Server {
 public:
  explicit Server(const CliOptions& o) : o_(o) {
    if (o.cluster) {
      fibredis::ClusterOptions co;
      co.startup_nodes = {{o.host, o.port}};
      co.username = o.user;
      co.password = o.password;
      co.client_name = "fibredis-cli";
      cluster_ = std::make_unique<fibredis::ClusterClient>(std::move(co));
    } else {
      single_ = std::make_unique<fibredis::Client>(fibredis::Options{
          .host = o.host, .port = o.port, .username = o.user, .password = o.password, .db = o.db,
          .client_name = "fibredis-cli"});
      single_->ping();  // connect now, so a wrong address fails before the first command
    }
  }

  fibredis::Reply execute(const fibredis::Command& cmd) {
    return cluster_ ? cluster_->execute(cmd) : single_->execute(cmd);
  }

  /// For -v: the node that serves the command's slot now (after the call, so a MOVED the call
  /// followed has already updated the map), or how a keyless command was routed.
  std::string answered_by(const fibredis::Command& cmd) const {
    if (!cluster_) return o_.host + ":" + std::to_string(o_.port);
    const std::optional<std::uint16_t> slot = fibredis::ClusterClient::command_slot(cmd);
    if (!slot) return "keyless: the command's fan-out rule (default node " + cluster_->get_default_node().to_string() + ")";
    const fibredis::Shard* shard = cluster_->topology()->shard_for_slot(*slot);
    if (!shard) return "slot " + std::to_string(*slot) + " (uncovered)";
    return shard->primary.to_string() + " (slot " + std::to_string(*slot) + ")";
  }

  /// INFO of every primary (cluster) or of the one server.
  std::vector<std::string> info_all() {
    std::vector<std::string> out;
    const fibredis::Command info{"INFO"};
    if (cluster_) {
      for (auto& [node, reply] : cluster_->execute_on(fibredis::Target::Primaries, info)) out.push_back(reply.as_string());
    } else {
      out.push_back(single_->execute(info).as_string());
    }
    return out;
  }

 private:
  const CliOptions& o_;
  std::unique_ptr<fibredis::Client> single_;
  std::unique_ptr<fibredis::ClusterClient> cluster_;
};

bool use_raw(const CliOptions& o) { return o.raw.value_or(!isatty(STDOUT_FILENO)); }

// Runs one command and prints its reply; returns the exit code it deserves.
int run_one(Server& server, const CliOptions& o, const std::vector<std::string>& args, bool raw) {
  const fibredis::Command cmd(args);
  std::string out;
  int code = kExitOk;
  try {
    const fibredis::Reply reply = server.execute(cmd);
    out = raw ? fibredis::cli::format_raw(reply) : fibredis::cli::format_standard(reply);
    if (reply.is_error()) code = kExitRefused;
  } catch (const fibredis::ConnectionError&) {
    throw;
  } catch (const fibredis::TimeoutError&) {
    throw;
  } catch (const fibredis::Error& e) {
    // Refused before anything was sent (a cross-slot command, one blocked in cluster mode) or a
    // cluster condition the client gave up on: print it where redis-cli prints a server's error.
    const fibredis::Reply as_reply = fibredis::Reply::error(e.what());
    out = raw ? fibredis::cli::format_raw(as_reply) : fibredis::cli::format_standard(as_reply);
    code = kExitRefused;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (o.verbose) std::cerr << "-> answered by " << server.answered_by(cmd) << "\n";
  return code;
}

std::string history_file() {
  if (const char* f = std::getenv("FIBREDIS_CLI_HISTFILE")) return f;
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.fibredis_cli_history";
  return {};
}

int interactive(Server& server, const CliOptions& o) {
  const std::string hist = history_file();
  using_history();
  if (!hist.empty()) read_history(hist.c_str());
  const std::string prompt = o.host + ":" + std::to_string(o.port) + "> ";
  const bool raw = o.raw.value_or(false);  // a person reads this: formatted unless --raw
  while (true) {
    // readline blocks the thread, and with it the runtime's other fibers (the cluster client's
    // periodic refresh): harmless, nothing else runs in this process, and they catch up after.
    std::unique_ptr<char, decltype(&std::free)> line(readline(prompt.c_str()), &std::free);
    if (!line) break;  // end of input (Ctrl-D)
    const std::optional<std::vector<std::string>> args = fibredis::cli::split_args(line.get());
    if (!args) {
      std::puts("Invalid argument(s)");
      continue;
    }
    if (args->empty()) continue;
    add_history(line.get());
    if (!hist.empty()) append_history(1, hist.c_str());
    std::string first = (*args)[0];
    std::transform(first.begin(), first.end(), first.begin(), [](unsigned char c) { return std::tolower(c); });
    if (first == "quit" || first == "exit") break;
    try {
      run_one(server, o, *args, raw);
    } catch (const fibredis::Error& e) {
      // The client reconnects on the next command, so the session goes on (redis-cli does too).
      std::printf("Error: %s\n", e.what());
      std::fflush(stdout);
    }
  }
  if (!hist.empty()) history_truncate_file(hist.c_str(), 1000);
  return kExitOk;
}

bool time_is_up(const CliOptions& o, Clock::time_point start) {
  return o.duration && Clock::now() - start >= *o.duration;
}

// redis-cli --latency: PING in a loop (10 ms apart, as redis-cli does), running min/max/avg in ms.
int latency(Server& server, const CliOptions& o) {
  const bool tty = isatty(STDOUT_FILENO);
  const fibredis::Command ping{"PING"};
  double min = 1e300, max = 0, sum = 0;
  long samples = 0;
  const auto start = Clock::now();
  auto next_print = start + std::chrono::duration_cast<Clock::duration>(o.interval);
  while (true) {
    const auto t0 = Clock::now();
    const fibredis::Reply r = server.execute(ping);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r.is_error()) throw fibredis::ResponseError(std::string(r.str()));
    min = std::min(min, ms);
    max = std::max(max, ms);
    sum += ms;
    ++samples;
    const bool last = time_is_up(o, start);
    if (Clock::now() >= next_print || last) {
      std::printf("%smin: %.3f, max: %.3f, avg: %.3f (%ld samples)%s", tty ? "\r\x1b[0K" : "", min, max,
                  sum / static_cast<double>(samples), samples, tty && !last ? "" : "\n");
      std::fflush(stdout);
      next_print += std::chrono::duration_cast<Clock::duration>(o.interval);
    }
    if (last) return kExitOk;
    fibredis::sleep_for(10ms);
  }
}

// The INFO fields --stat shows, summed over the cluster's primaries.
std::map<std::string, long long> stat_fields(const std::vector<std::string>& infos) {
  std::map<std::string, long long> sum;
  for (const std::string& info : infos) {
    std::istringstream in(info);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = line.substr(0, colon), value = line.substr(colon + 1);
      if (key.rfind("db", 0) == 0 && value.rfind("keys=", 0) == 0) {
        sum["keys"] += std::atoll(value.c_str() + 5);
      } else if (key == "used_memory" || key == "connected_clients" || key == "blocked_clients" ||
                 key == "total_commands_processed" || key == "total_connections_received") {
        sum[key] += std::atoll(value.c_str());
      }
    }
  }
  return sum;
}

std::string human_bytes(long long b) {
  char buf[32];
  if (b < 1024) std::snprintf(buf, sizeof buf, "%lldB", b);
  else if (b < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2fK", static_cast<double>(b) / 1024);
  else if (b < 1024LL * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2fM", static_cast<double>(b) / (1024 * 1024));
  else std::snprintf(buf, sizeof buf, "%.2fG", static_cast<double>(b) / (1024.0 * 1024 * 1024));
  return buf;
}

// redis-cli --stat: one line per interval, a header every 20 lines; requests as total (+delta).
int stat(Server& server, const CliOptions& o) {
  const auto start = Clock::now();
  long long last_requests = -1;
  for (long line = 0;; ++line) {
    const auto f = stat_fields(server.info_all());
    if (line % 20 == 0) {
      std::printf("------- data ------ --------------------- load --------------------\n"
                  "keys       mem      clients blocked requests            connections\n");
    }
    const long long requests = f.count("total_commands_processed") ? f.at("total_commands_processed") : 0;
    char req[48];
    std::snprintf(req, sizeof req, "%lld (+%lld)", requests, last_requests < 0 ? 0 : requests - last_requests);
    last_requests = requests;
    auto get = [&](const char* k) { return f.count(k) ? f.at(k) : 0; };
    std::printf("%-10lld %-8s %-7lld %-7lld %-19s %lld\n", get("keys"), human_bytes(get("used_memory")).c_str(),
                get("connected_clients"), get("blocked_clients"), req, get("total_connections_received"));
    std::fflush(stdout);
    if (time_is_up(o, start)) return kExitOk;
    fibredis::sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(o.interval));
    if (time_is_up(o, start)) return kExitOk;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const CliOptions o = parse_options(argc, argv);
  int code = kExitOk;
  // readline runs on the main fiber, and terminfo's setup alone puts ~100 KiB of buffers on the
  // stack: past the default 64 KiB fiber stack. Only touched pages cost memory, so 1 MiB is free.
  fibredis::RuntimeOptions ro;
  ro.stack_size = 1024 * 1024;
  fibredis::Runtime rt(ro);
  rt.run([&] {
    std::unique_ptr<Server> server;
    try {
      server = std::make_unique<Server>(o);
    } catch (const fibredis::AuthenticationError& e) {
      std::cerr << "AUTH failed: " << e.what() << "\n";
      code = kExitConnection;
      return;
    } catch (const fibredis::Error& e) {
      std::cerr << "Could not connect to Redis at " << o.host << ":" << o.port << ": " << e.what() << "\n";
      code = kExitConnection;
      return;
    }
    try {
      switch (o.mode) {
        case CliOptions::Mode::Command: code = run_one(*server, o, o.command, use_raw(o)); break;
        case CliOptions::Mode::Interactive: code = interactive(*server, o); break;
        case CliOptions::Mode::Latency: code = latency(*server, o); break;
        case CliOptions::Mode::Stat: code = stat(*server, o); break;
      }
    } catch (const fibredis::ResponseError& e) {
      std::cerr << "fibredis-cli: " << e.what() << "\n";
      code = kExitRefused;
    } catch (const fibredis::Error& e) {
      std::cerr << "fibredis-cli: lost " << o.host << ":" << o.port << ": " << e.what() << "\n";
      code = kExitConnection;
    }
  });
  return code;
}
