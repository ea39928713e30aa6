// libFuzzer target: the error-reply classifier and the MOVED / ASK parser (resp/error_reply.hpp).
//
// Any text must classify without crashing; parse_redirect must accept exactly the redirects the
// classifier calls Moved or Ask and whose fields are in range, and what it returns must print back
// to an equivalent redirect (slot < 16384, port 1..65535, no spaces in the host).
#include <fibredis/detail/resp/error_reply.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace fibredis;

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "error-reply invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ErrorKind kind = classify_error(text);
  const auto redirect = parse_redirect(text);
  if (!redirect) return 0;
  check(kind == (redirect->ask ? ErrorKind::Ask : ErrorKind::Moved), "a redirect classifies as one");
  check(redirect->slot < 16384, "slot in range");
  check(redirect->port != 0, "port non-zero");
  check(redirect->host.find_first_of(" \t\r\n") == std::string::npos, "host has no spaces");
  // What was parsed says the same thing when printed again (IPv6 hosts keep their colons).
  const std::string again = std::string(redirect->ask ? "ASK " : "MOVED ") +
                            std::to_string(redirect->slot) + " " + redirect->host + ":" +
                            std::to_string(redirect->port);
  const auto reparsed = parse_redirect(again);
  check(reparsed.has_value(), "a printed redirect parses");
  check(reparsed->ask == redirect->ask && reparsed->slot == redirect->slot &&
            reparsed->host == redirect->host && reparsed->port == redirect->port,
        "a printed redirect parses to the same fields");
  return 0;
}
