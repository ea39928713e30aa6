// fibredis-proxy: a TCP proxy that injects network faults on command, on the fibredis runtime.
//
// Usage:
//   fibredis-proxy --route NAME:LISTEN_PORT:TARGET_HOST:TARGET_PORT [--route ...]
//                  --control PORT [--bind 127.0.0.1] [--delay-ms D]
//
// Each route forwards LISTEN_PORT (on --bind) to the target. The control port (also on --bind)
// takes commands as redis-cli sends them or as plain lines (`nc`), one reply each:
//   PING                                  -> +PONG
//   STATUS                                -> one line per route
//   FAULT none|stall|blackhole|truncate|split|refuse [ROUTE] [FROM ADDR]
//                                         FROM: only connections from source address ADDR
//   DELAY up|down|both MS [ROUTE]         one-way delay per direction (up = client -> server)
//   RESET [ROUTE]                         RST every open connection now
//   CLEAR [ROUTE]                         fault none, delays 0
// Without ROUTE a command applies to every route. --delay-ms sets both directions of every
// route at start. docs/PROXY.md describes every fault exactly.
//
// Prints "fibredis-proxy ready: control PORT" on stdout once every port listens; exits on
// SIGTERM/SIGINT (the kernel closes the connections).
#include "fault_board.hpp"
#include "relay.hpp"

#include <fibredis/detail/runtime/io_call.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/operations.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace fibredis::proxy;

struct RouteArg {
  std::string name;
  std::uint16_t listen = 0;
  std::string host;
  std::uint16_t target = 0;
};

bool parse_port(std::string_view s, std::uint16_t& out) {
  unsigned v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v == 0 || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

bool parse_route(const std::string& s, RouteArg& r) {
  const auto a = s.find(':');
  const auto b = a == std::string::npos ? a : s.find(':', a + 1);
  const auto c = s.rfind(':');
  if (a == std::string::npos || b == std::string::npos || c <= b) return false;
  r.name = s.substr(0, a);
  r.host = s.substr(b + 1, c - b - 1);
  return !r.host.empty() && parse_port(std::string_view(s).substr(a + 1, b - a - 1), r.listen) &&
         parse_port(std::string_view(s).substr(c + 1), r.target);
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "fibredis-proxy: " << why << "\n"
            << "usage: fibredis-proxy --route NAME:LISTEN_PORT:TARGET_HOST:TARGET_PORT [--route ...]\n"
               "                      --control PORT [--bind 127.0.0.1] [--delay-ms D]\n";
  std::exit(2);
}

class Proxy {
 public:
  FaultBoard board;
  std::vector<std::unique_ptr<Route>> routes;

  std::string status() const {
    std::string s;
    for (const auto& r : routes) {
      const RouteFaults& f = r->faults();
      s += r->name() + " listen=" + std::to_string(r->listen_port()) + " target=" + r->target_host() +
           ":" + std::to_string(r->target_port()) + " fault=" + std::string(fault_name(f.fault)) +
           (f.from.empty() ? "" : " from=" + f.from) + " up_ms=" + std::to_string(f.up_delay.count()) + " down_ms=" + std::to_string(f.down_delay.count()) +
           " connections=" + std::to_string(r->connections()) + " accepted=" + std::to_string(r->accepted()) +
           "\n";
    }
    return s;
  }

  ControlReply command(const std::vector<std::string>& words) {
    BoardEffect e;
    ControlReply reply = board.apply(words, e);
    if (e.status) reply.text = status();
    // Heal before waking: a holed connection must not deliver anything after the blackhole.
    for (std::size_t r : e.healed) routes[r]->reset_holed();
    for (std::size_t r : e.reset) routes[r]->reset_all();
    for (std::size_t r : e.changed) routes[r]->faults_changed();
    return reply;
  }

  void control_connection(int fd) {
    std::string in;
    std::string buf(4096, '\0');
    for (;;) {
      fibredis::IoResult r = fibredis::io_call(
          [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); });
      if (!r || r.value == 0) break;
      in.append(buf.data(), static_cast<std::size_t>(r.value));
      std::vector<std::vector<std::string>> requests;
      const bool ok = take_requests(in, requests);
      std::string out;
      for (const auto& words : requests) out += encode_reply(command(words));
      if (!ok) out += encode_reply({false, "ERR malformed request", false});
      if (!out.empty() && !send_fully(fd, out, false, nullptr)) break;
      if (!ok) break;
    }
    ::close(fd);
  }

  void control_loop(int listen_fd) {
    for (;;) {
      std::error_code ec;
      const int fd = accept_one(listen_fd, ec);
      if (fd < 0) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      fibredis::spawn([this, fd] { control_connection(fd); });
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<RouteArg> route_args;
  std::string bind = "127.0.0.1";
  std::uint16_t control = 0;
  long delay_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "-h" || f == "--help") usage("a fault-injecting TCP proxy (docs/PROXY.md)");
    if (i + 1 >= argc) usage(f + " needs a value");
    const std::string v = argv[++i];
    if (f == "--route") {
      RouteArg r;
      if (!parse_route(v, r)) usage("bad --route '" + v + "'");
      route_args.push_back(r);
    } else if (f == "--control") {
      if (!parse_port(v, control)) usage("bad --control '" + v + "'");
    } else if (f == "--bind") {
      bind = v;
    } else if (f == "--delay-ms") {
      char* end = nullptr;
      delay_ms = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || delay_ms < 0 || delay_ms > 600000) usage("bad --delay-ms '" + v + "'");
    } else {
      usage("unknown option " + f);
    }
  }
  if (route_args.empty()) usage("at least one --route is needed");
  if (control == 0) usage("--control is required");

  try {
    fibredis::Runtime rt;
    rt.run([&] {
      Proxy proxy;
      for (const RouteArg& a : route_args) {
        const std::size_t idx = proxy.board.add_route(a.name);
        proxy.routes.push_back(std::make_unique<Route>(proxy.board, idx, bind, a.listen, a.host, a.target));
        proxy.routes.back()->listen();
      }
      proxy.board.set_all_delays(std::chrono::milliseconds(delay_ms));
      std::string why;
      const int control_fd = listen_socket(bind, control, why);
      if (control_fd < 0) throw std::runtime_error("control port: " + why);
      std::printf("fibredis-proxy ready: control %u\n", static_cast<unsigned>(control));
      std::fflush(stdout);
      for (auto& r : proxy.routes) fibredis::spawn([route = r.get()] { route->accept_loop(); });
      proxy.control_loop(control_fd);
    });
  } catch (const std::exception& e) {
    std::cerr << "fibredis-proxy: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
