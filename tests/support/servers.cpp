// Test server fixture: see servers.hpp.  Standard library + POSIX only.
#include "support/servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace fibredis::test {
namespace {

constexpr const char* kPassword = "s3cret-pw";
constexpr int kClusterNodes = 6;
constexpr int kStartTries = 20;        // port bases tried before giving up
constexpr int kOtherFailuresMax = 2;   // failures that are not "port refused" (exit 3)
constexpr int kExitRefused = 3;        // local-cluster: port out of range or taken

// ---- small helpers -------------------------------------------------------------------

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

// Runs `cmd` through /bin/sh, capturing its stdout.
RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) {
    r.output = "popen failed: " + std::string(std::strerror(errno));
    return r;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.output.append(buf, n);
  const int st = ::pclose(f);
  if (st != -1 && WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (!(in >> low) || low <= 1024) low = 32768;
  return low;
}

// Absolute path of tools/local-cluster, resolved once (the watchdog outlives any chdir).
std::string find_script() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FIBREDIS_LOCAL_CLUSTER"); env != nullptr && *env != '\0')
    candidates.emplace_back(env);
  candidates.emplace_back("tools/local-cluster");
  candidates.emplace_back("../tools/local-cluster");
  for (const std::string& p : candidates) {
    if (::access(p.c_str(), X_OK) != 0) continue;
    char* abs = ::realpath(p.c_str(), nullptr);
    if (abs == nullptr) return p;
    std::string out(abs);
    std::free(abs);
    return out;
  }
  throw std::runtime_error(
      "tools/local-cluster not found: set FIBREDIS_LOCAL_CLUSTER or run from the repo root");
}

// Leaked on purpose: the atexit handler runs after function-local statics are destroyed.
const std::string& script_path() {
  static const std::string* path = new std::string(find_script());
  return *path;
}

std::string state_root() {
  const char* t = std::getenv("TMPDIR");
  return (t != nullptr && *t != '\0') ? t : "/tmp";
}

// ---- registry of what this process started, and the watchdog --------------------------

struct Started {
  std::string dir;
  int nports = 0;
};

class Registry {
 public:
  static Registry& get() {
    static Registry* r = new Registry;  // never destroyed: usable from the atexit handler
    return *r;
  }

  std::mutex mu;
  std::map<uint16_t, Started> started;  // base port -> what local-cluster start made
  int next_try = 0;                     // process-wide counter over candidate bases

  // Tells the watchdog about a start before it happens, so a crash mid-start is cleaned.
  void watch(uint16_t base, const std::string& dir) {
    ensure_watchdog();
    send("+ " + std::to_string(base) + " " + dir + "\n");
  }
  void unwatch(uint16_t base, const std::string& dir) {
    send("- " + std::to_string(base) + " " + dir + "\n");
  }

  void stop_all() {
    std::lock_guard lock(mu);
    for (const auto& [base, s] : started) {
      const RunResult r = run(shell_quote(script_path()) + " stop --port " +
                              std::to_string(base) + " --dir " + shell_quote(s.dir) +
                              " </dev/null 2>&1");
      if (r.exit_code == 0) unwatch(base, s.dir);  // else the watchdog tries again
      else std::fprintf(stderr, "fibredis test servers: stop failed:\n%s\n", r.output.c_str());
    }
    started.clear();
    if (watchdog_fd_ >= 0) {
      ::close(watchdog_fd_);  // EOF: the watchdog finds nothing left and exits
      watchdog_fd_ = -1;
    }
  }

 private:
  Registry() = default;

  // Writes to the watchdog with SIGPIPE blocked on this thread (a dead watchdog must not
  // kill the test), without changing the process-wide SIGPIPE disposition.
  void send(const std::string& line) {
    if (watchdog_fd_ < 0) return;
    sigset_t pipe_set;
    sigset_t old_set;
    ::sigemptyset(&pipe_set);
    ::sigaddset(&pipe_set, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    bool got_epipe = false;
    size_t off = 0;
    for (int i = 0; i < 100 && off < line.size(); ++i) {
      const ssize_t n = ::write(watchdog_fd_, line.data() + off, line.size() - off);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && errno != EINTR) {
        got_epipe = errno == EPIPE;
        break;
      }
    }
    if (got_epipe && ::sigismember(&old_set, SIGPIPE) == 0) {
      const timespec zero{};
      ::sigtimedwait(&pipe_set, nullptr, &zero);  // consume the pending SIGPIPE
    }
    ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  }

  // A bash process that reads "+ PORT DIR" / "- PORT DIR" lines on stdin and, when the
  // pipe closes (this process exited, crashed or was killed), stops whatever is left.
  void ensure_watchdog() {
    if (watchdog_started_) return;
    watchdog_started_ = true;
    static const char* kWatchdog = R"sh(
trap '' INT TERM HUP QUIT PIPE
declare -A live=()
while (( SECONDS < 86400 )); do
  if IFS= read -r -t 60 line; then
    case $line in
      "+ "*) rest=${line#+ }; port=${rest%% *}; [[ $port =~ ^[0-9]+$ ]] && live[$port]=${rest#* } ;;
      "- "*) rest=${line#- }; port=${rest%% *}; [[ $port =~ ^[0-9]+$ ]] && unset "live[$port]" ;;
    esac
  elif (( $? <= 128 )); then
    break
  fi
done
for port in "${!live[@]}"; do
  dir=${live[$port]}
  echo "fibredis test watchdog: stopping servers of port $port" >&2
  timeout 60 "$1" stop --port "$port" --dir "$dir" >/dev/null 2>&1
done
)sh";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    const std::string script = script_path();
    const char* argv[] = {"bash", "-c", kWatchdog, "fibredis-test-watchdog", script.c_str(),
                          nullptr};
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return;
    }
    if (pid == 0) {
      // Child: async-signal-safe calls only, then exec.
      ::dup2(fds[0], 0);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 1);
#ifdef SYS_close_range
      if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
        for (int fd = 3; fd < 4096; ++fd) ::close(fd);
      ::setsid();
      ::signal(SIGINT, SIG_IGN);
      ::signal(SIGTERM, SIG_IGN);
      ::signal(SIGHUP, SIG_IGN);
      ::signal(SIGQUIT, SIG_IGN);
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execvp("bash", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    ::close(fds[0]);
    watchdog_fd_ = fds[1];
  }

  bool watchdog_started_ = false;
  int watchdog_fd_ = -1;
};

void stop_everything_at_exit() { Registry::get().stop_all(); }

// Base ports live in [lo, hi) so that base + 5 + 10000 (cluster bus) stays below the
// ephemeral range; normally [12000, 22000).
std::pair<int, int> base_range() {
  const int low = ephemeral_low();
  int lo = 12000;
  int hi = std::min(22000, low - 10000 - kClusterNodes - 4);
  if (hi - lo < 200) {
    lo = 1100;
    hi = low - 10000 - kClusterNodes - 4;
  }
  if (hi - lo < 200) throw std::runtime_error("ephemeral port range starts too low for test servers");
  return {lo, hi};
}

// Starts `local-cluster start --port BASE <args>` on a free base; returns the base.
uint16_t start_servers(const std::string& args, int nports) {
  static const bool registered = [] {
    std::atexit(stop_everything_at_exit);
    return true;
  }();
  (void)registered;

  const auto [lo, hi] = base_range();
  const int slots = (hi - lo) / 10;
  const int first = static_cast<int>((static_cast<unsigned>(::getpid()) * 7919U) % static_cast<unsigned>(slots));
  Registry& reg = Registry::get();
  std::string log;
  int other_failures = 0;
  for (int attempt = 0; attempt < kStartTries; ++attempt) {
    std::unique_lock lock(reg.mu);
    const int base = lo + ((first + reg.next_try++) % slots) * 10;
    if (reg.started.count(static_cast<uint16_t>(base)) != 0) continue;
    const std::string dir = state_root() + "/fibredis-test-" + std::to_string(::getpid()) + "-" +
                            std::to_string(base);
    reg.watch(static_cast<uint16_t>(base), dir);
    const RunResult r = run(shell_quote(script_path()) + " start --port " + std::to_string(base) +
                            " --dir " + shell_quote(dir) + " " + args + " </dev/null 2>&1");
    if (r.exit_code == 0) {
      reg.started[static_cast<uint16_t>(base)] = Started{dir, nports};
      return static_cast<uint16_t>(base);
    }
    reg.unwatch(static_cast<uint16_t>(base), dir);
    log += "--- local-cluster start --port " + std::to_string(base) + " " + args + " (exit " +
           std::to_string(r.exit_code) + "):\n" + r.output;
    if (r.exit_code != kExitRefused && ++other_failures >= kOtherFailuresMax) break;
  }
  throw std::runtime_error("could not start test redis servers:\n" + log);
}

ClusterInfo make_cluster(const std::string& password = {}) {
  ClusterInfo c;
  c.password = password;
  const uint16_t base = start_servers(
      "--primaries 3 --replicas 1" + (password.empty() ? std::string() : " --password " + password),
      kClusterNodes);
  for (int i = 0; i < kClusterNodes; ++i) c.ports.push_back(static_cast<uint16_t>(base + i));
  return c;
}

bool port_has_listener(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // bind without SO_REUSEADDR fails if anything (listener or connection) uses the port.
  const bool busy = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
  ::close(fd);
  if (busy) return true;
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0) return true;
  const bool accepted = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  const bool refused = !accepted && errno == ECONNREFUSED;
  ::close(c);
  return !refused;
}

}  // namespace

// ---- public API ------------------------------------------------------------------------

const ServerInfo& single_server() {
  static const ServerInfo info = [] {
    ServerInfo s;
    s.port = start_servers("--single", 1);
    return s;
  }();
  return info;
}

const ServerInfo& password_server() {
  static const ServerInfo info = [] {
    ServerInfo s;
    s.password = kPassword;
    s.port = start_servers(std::string("--single --password ") + kPassword, 1);
    return s;
  }();
  return info;
}

const ClusterInfo& cluster() {
  static const ClusterInfo info = make_cluster();
  return info;
}

const ClusterInfo& password_cluster() {
  static const ClusterInfo info = make_cluster(kPassword);
  return info;
}

ClusterInfo fresh_cluster() { return make_cluster(); }

ClusterInfo fresh_proxied_cluster() {
  // 6 proxies, then 6 servers, then 6 control ports (tools/local-cluster --help).
  ClusterInfo c;
  const uint16_t base = start_servers("--primaries 3 --replicas 1 --proxy", 3 * kClusterNodes);
  for (int i = 0; i < kClusterNodes; ++i) {
    c.ports.push_back(static_cast<uint16_t>(base + i));
    c.control_ports.push_back(static_cast<uint16_t>(base + 2 * kClusterNodes + i));
    c.source_addrs.push_back("127.0.1." + std::to_string(1 + i));  // tools/local-cluster source_addr
  }
  return c;
}

std::string proxy_command(uint16_t control_port, const std::string& args) {
  return redis_cli(control_port, args);
}

void stop_cluster(const ClusterInfo& c) {
  if (c.ports.empty()) return;
  Registry& reg = Registry::get();
  std::lock_guard lock(reg.mu);
  const auto it = reg.started.find(c.ports.front());
  if (it == reg.started.end()) return;
  const RunResult r = run(shell_quote(script_path()) + " stop --port " +
                          std::to_string(it->first) + " --dir " + shell_quote(it->second.dir) +
                          " </dev/null 2>&1");
  if (r.exit_code != 0)
    throw std::runtime_error("local-cluster stop failed:\n" + r.output);
  reg.unwatch(it->first, it->second.dir);
  reg.started.erase(it);
}

pid_t server_pid(uint16_t port) {
  Registry& reg = Registry::get();
  std::string cmd;
  {
    std::lock_guard lock(reg.mu);
    for (const auto& [base, s] : reg.started) {
      if (port >= base && port < base + s.nports) {
        cmd = shell_quote(script_path()) + " pids --port " + std::to_string(base) + " --dir " +
              shell_quote(s.dir) + " </dev/null 2>/dev/null";
        break;
      }
    }
  }
  if (cmd.empty())
    throw std::runtime_error("server_pid: port " + std::to_string(port) + " was not started here");
  const RunResult r = run(cmd);
  std::istringstream in(r.output);
  long p = 0;
  long pid = 0;
  for (int i = 0; i < 1000 && (in >> p >> pid); ++i)
    if (p == port) return static_cast<pid_t>(pid);
  throw std::runtime_error("server_pid: no pid recorded for port " + std::to_string(port) +
                           ":\n" + r.output);
}

std::string redis_cli(uint16_t port, const std::string& args) {
  const RunResult r = run("timeout -k 5 60 redis-cli -h 127.0.0.1 -p " + std::to_string(port) +
                          " " + args + " </dev/null");
  return trim(r.output);
}

uint16_t unused_port() {
  // Below the fixture's base range (and far below the ephemeral range, so a connect can
  // never end up connected to itself).
  constexpr int lo = 10000;
  constexpr int span = 2000;
  static std::mutex mu;
  static int next = static_cast<int>((static_cast<unsigned>(::getpid()) * 31U) % span);
  std::lock_guard lock(mu);
  for (int i = 0; i < span; ++i) {
    const auto port = static_cast<uint16_t>(lo + (next++ % span));
    if (!port_has_listener(port)) return port;
  }
  throw std::runtime_error("unused_port: no free loopback port in [10000, 12000)");
}

}  // namespace fibredis::test
