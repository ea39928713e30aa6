// brpop-floor: the floor under examples/blocking_swarm — the same BRPOP swarm with no client
// library, no fibers and no io_uring: plain non-blocking sockets and epoll, one thread.
//
// Usage:
//   brpop-floor [--host 127.0.0.1] [--port 6379] [--clients 500] [--timeout 1] [--wake]
//   brpop-floor --cluster HOST:PORT --clients 10000 [--timeout 1] [--wake]
//
// It opens N non-blocking sockets (to the node owning each list's slot: CLUSTER SLOTS is read
// once over a plain blocking socket and the CRC16 slots are computed here), sends one BRPOP on
// each as soon as its connect completes, reads every reply and closes the socket. The lists are
// named as tools/bench_blocking.cpp names them, so the servers see the same keys and slots.
// --wake: BRPOP with a 10 s timeout; once INFO clients on every node counts all N blocked, one
// blocking socket per node writes an LPUSH of its own name into every list, and wake_ms runs
// from the first push until the last reply has arrived (each reply checked).
//
// One summary line, with blocking_swarm's field names (exit 0 only if every reply was right):
//   clients=N returned=R mismatches=0 errors=0 threads=1 wall_ms=W setup_ms=S [wake_ms=K]
//   max_rss_kib=P baseline_rss_kib=B rss_per_call_kib=X cpu_ms=U
// setup_ms: wall_ms minus the block time, or in a --wake run the time until all were blocked.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kSlots = 16384;
constexpr long long kWakeBlockMs = 10000;
constexpr long long kGraceMs = 60000;  // beyond the block time, before the run is declared stuck

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }
[[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

long long cpu_ms_now() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

long long ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

long status_field(std::string_view name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':')
      return std::atol(line.c_str() + name.size() + 1);
  return -1;
}

// ---- slots: CRC16-XMODEM (polynomial 0x1021, initial 0) of the key or its hash tag, mod 16384,
// as the Redis Cluster specification's "Keys distribution model" defines it.
std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char b : bytes) {
    crc = static_cast<std::uint16_t>(crc ^ (b << 8));
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

int key_slot(std::string_view key) {
  // Only the part between the first '{' and the next '}' is hashed, if that part is not empty.
  const std::size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) % kSlots;
}

// Client i's list: "swarm:<pid>:{tag}:i" with a tag that hashes to slot i * 16384 / n.
std::vector<std::string> list_names(int n) {
  std::vector<std::string> tag_of(kSlots);
  int filled = 0;
  for (unsigned long t = 0; filled < kSlots; ++t) {
    std::string tag = std::to_string(t);
    std::string& slot_tag = tag_of[static_cast<std::size_t>(key_slot(tag))];
    if (slot_tag.empty()) {
      slot_tag = std::move(tag);
      ++filled;
    }
  }
  const std::string prefix = "swarm:" + std::to_string(::getpid()) + ":{";
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    names.push_back(prefix + tag_of[static_cast<std::size_t>(static_cast<long long>(i) * kSlots / n % kSlots)] +
                    "}:" + std::to_string(i));
  return names;
}

// ---- RESP2: just enough to encode commands and read the replies this program gets.
std::string encode(const std::vector<std::string_view>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out.append(a);
    out += "\r\n";
  }
  return out;
}

struct Resp {
  char type = 0;  // '+', '-', ':', '$', '*'; nil bulk and nil array keep '$' / '*' with nil = true
  bool nil = false;
  long long integer = 0;
  std::string str;
  std::vector<Resp> items;
};

// Parses one reply from in[pos..]: the offset after it, or 0 when it is not complete yet.
std::size_t parse(std::string_view in, std::size_t pos, Resp& out) {
  const std::size_t eol = in.find("\r\n", pos);
  if (eol == std::string_view::npos || eol == pos) return 0;
  out.type = in[pos];
  const std::string line(in.substr(pos + 1, eol - pos - 1));
  std::size_t next = eol + 2;
  switch (out.type) {
    case '+':
    case '-':
      out.str = line;
      return next;
    case ':':
      out.integer = std::atoll(line.c_str());
      return next;
    case '$': {
      const long long len = std::atoll(line.c_str());
      if (len < 0) {
        out.nil = true;
        return next;
      }
      if (in.size() < next + static_cast<std::size_t>(len) + 2) return 0;
      out.str.assign(in.substr(next, static_cast<std::size_t>(len)));
      return next + static_cast<std::size_t>(len) + 2;
    }
    case '*': {
      const long long count = std::atoll(line.c_str());
      if (count < 0) {
        out.nil = true;
        return next;
      }
      out.items.resize(static_cast<std::size_t>(count));
      for (Resp& item : out.items)
        if ((next = parse(in, next, item)) == 0) return 0;
      return next;
    }
    default:
      fail("protocol error: unexpected reply type '" + std::string(1, out.type) + "'");
  }
}

// ---- plain blocking sockets for the set-up and control traffic (never timed against the swarm)
sockaddr_in resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0)
    fail("cannot resolve " + host + ": " + ::gai_strerror(rc));
  sockaddr_in a = *reinterpret_cast<const sockaddr_in*>(res->ai_addr);
  ::freeaddrinfo(res);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

struct Blocking {
  int fd = -1;
  std::string in;
  std::size_t pos = 0;  // parsed up to here

  explicit Blocking(const sockaddr_in& a) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail_errno("connect");
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Blocking() { ::close(fd); }
  Blocking(const Blocking&) = delete;
  Blocking& operator=(const Blocking&) = delete;

  void send_all(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail_errno("send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  Resp read_reply() {
    for (;;) {
      Resp r;
      if (const std::size_t end = parse(in, pos, r); end != 0) {
        pos = end;
        if (pos > 65536) {
          in.erase(0, pos);
          pos = 0;
        }
        return r;
      }
      char buf[16384];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(n == 0 ? std::string("server closed the connection") : "recv: " + std::string(std::strerror(errno)));
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
  Resp call(const std::vector<std::string_view>& args) {
    send_all(encode(args));
    return read_reply();
  }
};

struct Node {
  std::string host;
  int port = 0;
  sockaddr_in addr{};
};

// The primaries and, per slot, the index of its primary: CLUSTER SLOTS entries are
// [start, end, [host, port, id...], replicas...].
void read_slot_map(const std::string& seed, std::vector<Node>& nodes, std::vector<int>& slot_node) {
  const std::size_t colon = seed.rfind(':');
  if (colon == std::string::npos) fail("--cluster wants HOST:PORT, got '" + seed + "'");
  Blocking s(resolve(seed.substr(0, colon), std::atoi(seed.c_str() + colon + 1)));
  const Resp map = s.call({"CLUSTER", "SLOTS"});
  if (map.type != '*') fail("CLUSTER SLOTS: " + (map.type == '-' ? map.str : std::string("not an array")));
  slot_node.assign(kSlots, -1);
  for (const Resp& range : map.items) {
    if (range.items.size() < 3 || range.items[2].items.size() < 2) fail("CLUSTER SLOTS: malformed entry");
    const Resp& primary = range.items[2];
    std::string host = primary.items[0].str.empty() ? seed.substr(0, colon) : primary.items[0].str;
    const int port = static_cast<int>(primary.items[1].integer);
    int index = -1;
    for (std::size_t k = 0; k < nodes.size(); ++k)
      if (nodes[k].host == host && nodes[k].port == port) index = static_cast<int>(k);
    if (index < 0) {
      index = static_cast<int>(nodes.size());
      nodes.push_back(Node{host, port, resolve(host, port)});
    }
    for (long long sl = range.items[0].integer; sl <= range.items[1].integer && sl < kSlots; ++sl)
      slot_node[static_cast<std::size_t>(sl)] = index;
  }
  if (std::count(slot_node.begin(), slot_node.end(), -1) != 0) fail("CLUSTER SLOTS: not every slot is served");
}

long blocked_clients(const std::string& info) {
  const std::size_t at = info.find("blocked_clients:");
  return at == std::string::npos ? 0 : std::atol(info.c_str() + at + 16);
}

void raise_fd_limit(int clients) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) fail_errno("getrlimit");
  const rlim_t need = static_cast<rlim_t>(clients) + 64;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need)
    fail("--clients " + std::to_string(clients) + " needs " + std::to_string(need) +
         " open files, but the hard RLIMIT_NOFILE is " + std::to_string(lim.rlim_max));
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) fail_errno("setrlimit(RLIMIT_NOFILE)");
}

// One swarm socket: what it waits on, and the bytes of its reply so far (empty until data comes).
struct Conn {
  int fd = -1;
  bool sent = false;  // its BRPOP is out: from now on it waits for EPOLLIN
  std::string in;
};

struct Run {
  int clients = 500;
  long long block_ms = 1000;
  bool wake = false;
  int returned = 0, mismatches = 0;
  long long wall_ms = 0, setup_ms = 0, wake_ms = -1;
  long baseline_rss_kib = 0, max_rss_kib = 0;
  long long cpu_ms = 0;  // user + system CPU from the first connect to the last reply
  std::string first_error;

  void mismatch(const std::string& what) {
    if (mismatches++ == 0) first_error = what;
  }
};

void swarm(Run& run, const std::vector<Node>& nodes, const std::vector<int>& slot_node) {
  const int n = run.clients;
  const std::vector<std::string> names = list_names(n);
  const std::string timeout = std::to_string(run.block_ms / 1000.0);
  std::vector<int> node_of(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) node_of[static_cast<std::size_t>(i)] = slot_node.empty() ? 0 : slot_node[static_cast<std::size_t>(key_slot(names[static_cast<std::size_t>(i)]))];
  // Control connections (INFO, the pushes) are opened before the clock starts.
  std::vector<std::unique_ptr<Blocking>> control;
  if (run.wake)
    for (const Node& node : nodes) control.push_back(std::make_unique<Blocking>(node.addr));

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fail_errno("epoll_create1");
  std::vector<Conn> conns(static_cast<std::size_t>(n));
  int sent = 0, finished = 0;
  run.baseline_rss_kib = status_field("VmRSS");
  const long long cpu0 = cpu_ms_now();
  const auto start = Clock::now();

  auto send_brpop = [&](int i) {
    Conn& c = conns[static_cast<std::size_t>(i)];
    const std::string cmd = encode({"BRPOP", names[static_cast<std::size_t>(i)], timeout});
    // The command is ~60 bytes and the socket's send buffer is empty: a short write is an error.
    const ssize_t w = ::send(c.fd, cmd.data(), cmd.size(), MSG_NOSIGNAL);
    if (w != static_cast<ssize_t>(cmd.size())) fail_errno("send BRPOP on client " + std::to_string(i));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) != 0) fail_errno("epoll_ctl MOD");
    c.sent = true;
    ++sent;
  };

  // Every connect at once, then the event loop: the kernel completes the handshakes in parallel.
  for (int i = 0; i < n; ++i) {
    Conn& c = conns[static_cast<std::size_t>(i)];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) fail_errno("socket for client " + std::to_string(i));
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) fail_errno("epoll_ctl ADD");
    const sockaddr_in& a = nodes[static_cast<std::size_t>(node_of[static_cast<std::size_t>(i)])].addr;
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
      fail_errno("connect for client " + std::to_string(i));
  }

  bool pushed = false;
  // The pushes, per node: the pipelined LPUSHes and how much of them is written. They go out
  // through the same epoll loop as the replies (event ids n + node), so no node's batch waits for
  // another's and replies are stamped as they arrive.
  std::vector<std::string> batch(nodes.size());
  std::vector<std::size_t> batch_sent(nodes.size(), 0);
  auto write_batch = [&](std::size_t k) {
    while (batch_sent[k] < batch[k].size()) {
      const ssize_t w = ::send(control[k]->fd, batch[k].data() + batch_sent[k], batch[k].size() - batch_sent[k],
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return false;
      if (w <= 0) fail_errno("send LPUSH batch");
      batch_sent[k] += static_cast<std::size_t>(w);
    }
    return true;
  };
  Clock::time_point first_push{}, last_reply{}, next_poll = start;
  const long long bound_ms = run.block_ms + kGraceMs;
  std::vector<epoll_event> events(1024);
  while (finished < n) {
    if (ms_since(start) > bound_ms) fail("only " + std::to_string(finished) + " of " + std::to_string(n) + " replies after " + std::to_string(bound_ms) + " ms");
    if (run.wake && !pushed && sent == n && Clock::now() >= next_poll) {
      long blocked = 0;
      for (const auto& cs : control) blocked += blocked_clients(cs->call({"INFO", "clients"}).str);
      next_poll = Clock::now() + std::chrono::milliseconds(20);
      if (blocked >= n) {
        run.setup_ms = ms_since(start);
        // One pipelined write per node: every LPUSH at once, as fibredis' cluster pipeline does.
        for (int i = 0; i < n; ++i) {
          const std::string& name = names[static_cast<std::size_t>(i)];
          batch[static_cast<std::size_t>(node_of[static_cast<std::size_t>(i)])] += encode({"LPUSH", name, name});
        }
        first_push = Clock::now();
        for (std::size_t k = 0; k < nodes.size(); ++k) {
          if (write_batch(k)) continue;
          epoll_event ev{};
          ev.events = EPOLLOUT;
          ev.data.u32 = static_cast<std::uint32_t>(n) + static_cast<std::uint32_t>(k);
          if (::epoll_ctl(ep, EPOLL_CTL_ADD, control[k]->fd, &ev) != 0) fail_errno("epoll_ctl ADD control");
        }
        pushed = true;
      }
    }
    const int timeout_ms = run.wake && !pushed ? 5 : 100;
    const int got = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail_errno("epoll_wait");
    }
    for (int e = 0; e < got; ++e) {
      const int i = static_cast<int>(events[static_cast<std::size_t>(e)].data.u32);
      if (i >= n) {  // a node's LPUSH batch can take more bytes
        const auto k = static_cast<std::size_t>(i - n);
        if (write_batch(k) && ::epoll_ctl(ep, EPOLL_CTL_DEL, control[k]->fd, nullptr) != 0)
          fail_errno("epoll_ctl DEL control");
        continue;
      }
      Conn& c = conns[static_cast<std::size_t>(i)];
      if (c.fd < 0) continue;
      if (!c.sent) {  // the connect completed (EPOLLOUT) or failed (EPOLLERR/EPOLLHUP)
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) fail("connect for client " + std::to_string(i) + ": " + std::strerror(err));
        send_brpop(i);
        continue;
      }
      char buf[512];
      const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) fail("client " + std::to_string(i) + ": connection closed before its reply");
      c.in.append(buf, static_cast<std::size_t>(r));
      Resp reply;
      if (parse(c.in, 0, reply) == 0) continue;
      const std::string& name = names[static_cast<std::size_t>(i)];
      const bool ok = run.wake ? (reply.type == '*' && !reply.nil && reply.items.size() == 2 &&
                                  reply.items[0].str == name && reply.items[1].str == name)
                               : (reply.type == '*' && reply.nil);
      if (ok) ++run.returned;
      else run.mismatch("client " + std::to_string(i) + " on " + name + " got reply type '" + std::string(1, reply.type) + "' " + reply.str);
      last_reply = Clock::now();
      ::close(c.fd);
      c.fd = -1;
      std::string().swap(c.in);
      ++finished;
    }
  }
  run.wall_ms = ms_since(start);
  run.cpu_ms = cpu_ms_now() - cpu0;
  if (run.wake) {
    run.wake_ms = std::chrono::duration_cast<std::chrono::milliseconds>(last_reply - first_push).count();
    // Callers that ended early (an error reply) may leave a batch partly written: finish it, so
    // that every LPUSH below has its reply.
    for (std::size_t k = 0; k < nodes.size(); ++k)
      control[k]->send_all(std::string_view(batch[k]).substr(batch_sent[k]));
    // The pushes' replies, after the clock: each LPUSH found its list empty (reply 1).
    std::vector<int> per_node(nodes.size(), 0);
    for (int i = 0; i < n; ++i) ++per_node[static_cast<std::size_t>(node_of[static_cast<std::size_t>(i)])];
    for (std::size_t k = 0; k < nodes.size(); ++k)
      for (int j = 0; j < per_node[k]; ++j)
        if (const Resp r = control[k]->read_reply(); r.type != ':' || r.integer != 1)
          run.mismatch("LPUSH on node " + nodes[k].host + ":" + std::to_string(nodes[k].port) + " replied " + r.str);
  } else {
    run.setup_ms = run.wall_ms - run.block_ms;
  }
  ::close(ep);
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  std::string host = "127.0.0.1", cluster;
  int port = 6379;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--wake") {
      run.wake = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "brpop-floor: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* v = argv[++i];
    if (flag == "--host") host = v;
    else if (flag == "--port") port = std::atoi(v);
    else if (flag == "--cluster") cluster = v;
    else if (flag == "--clients") run.clients = std::atoi(v);
    else if (flag == "--timeout") run.block_ms = static_cast<long long>(std::atof(v) * 1000);
    else {
      std::fprintf(stderr, "brpop-floor: unknown flag %s\n", argv[i - 1]);
      return 2;
    }
  }
  if (run.wake) run.block_ms = kWakeBlockMs;
  try {
    if (run.clients < 1) fail("--clients must be at least 1");
    raise_fd_limit(run.clients);
    std::vector<Node> nodes;
    std::vector<int> slot_node;
    if (!cluster.empty()) read_slot_map(cluster, nodes, slot_node);
    else nodes.push_back(Node{host, port, resolve(host, port)});
    swarm(run, nodes, slot_node);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brpop-floor: %s\n", e.what());
    return 1;
  }
  run.max_rss_kib = status_field("VmHWM");  // the peak, beside the VmRSS baseline
  if (!run.first_error.empty()) std::fprintf(stderr, "brpop-floor: first failure: %s\n", run.first_error.c_str());
  std::printf("clients=%d returned=%d mismatches=%d errors=0 threads=%ld wall_ms=%lld setup_ms=%lld%s "
              "max_rss_kib=%ld baseline_rss_kib=%ld rss_per_call_kib=%.2f cpu_ms=%lld\n",
              run.clients, run.returned, run.mismatches, status_field("Threads"), run.wall_ms, run.setup_ms,
              run.wake ? (" wake_ms=" + std::to_string(run.wake_ms)).c_str() : "", run.max_rss_kib,
              run.baseline_rss_kib, static_cast<double>(run.max_rss_kib - run.baseline_rss_kib) / run.clients,
              run.cpu_ms);
  return run.returned == run.clients && run.mismatches == 0 ? 0 : 1;
}
