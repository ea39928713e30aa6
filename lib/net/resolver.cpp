#include <fibredis/detail/net/resolver.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/io_call.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace fibredis {

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
}

bool parse_numeric(const std::string& host, std::uint16_t port, Endpoint& out) noexcept {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len = sizeof(sockaddr_in);
    return true;
  }
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

namespace {
// Shared by the waiting fiber and the helper thread; whoever finishes last frees it, so a fiber
// that gave up on its deadline leaves nothing dangling.
struct Lookup {
  int efd = -1;
  int status = 0;
  std::vector<Endpoint> results;
  ~Lookup() {
    if (efd >= 0) ::close(efd);
  }
};
}  // namespace

std::error_code resolve(const std::string& host, std::uint16_t port, Deadline deadline,
                        std::vector<Endpoint>& out) {
  out.clear();
  Endpoint ep;
  if (parse_numeric(host, port, ep)) {
    out.push_back(ep);
    return {};
  }
  auto lookup = std::make_shared<Lookup>();
  lookup->efd = ::eventfd(0, EFD_CLOEXEC);
  if (lookup->efd < 0) return {errno, std::system_category()};
  try {
    std::thread([lookup, host, port] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* res = nullptr;
      const std::string service = std::to_string(port);
      lookup->status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
      for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        Endpoint e;
        std::memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
        e.len = ai->ai_addrlen;
        lookup->results.push_back(e);
      }
      if (res) ::freeaddrinfo(res);
      const std::uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(lookup->efd, &one, sizeof one);
    }).detach();
  } catch (const std::system_error& e) {
    return e.code();
  }
  std::uint64_t value = 0;
  IoResult r = io_call(
      [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, lookup->efd, &value, sizeof value, 0); }, deadline);
  if (!r) return r.error;
  // The thread wrote the eventfd after filling results: the read's completion orders them for us.
  if (lookup->status != 0 || lookup->results.empty()) return make_error_code(errc::resolve_failed);
  out = std::move(lookup->results);
  std::stable_partition(out.begin(), out.end(), [](const Endpoint& e) { return e.family() == AF_INET; });
  return {};
}

}  // namespace fibredis
