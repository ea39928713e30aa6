#include "fibredis/errors.hpp"

#include <cerrno>
#include <string>

namespace fibredis {

namespace {

class FibredisCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fibredis"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::timeout: return "operation timed out";
      case errc::cancelled: return "operation cancelled";
      case errc::connection_closed: return "connection closed";
      case errc::protocol_error: return "protocol error";
      case errc::resolve_failed: return "host name could not be resolved";
      case errc::auth_failed: return "authentication failed";
      case errc::not_connected: return "not connected";
      case errc::usage: return "invalid usage";
      case errc::pool_timeout: return "timed out waiting for a pooled connection";
      case errc::too_many_open_files: return "too many open files";
      case errc::call_cancelled: return "call cancelled";
      case errc::call_timeout: return "call deadline passed";
    }
    return "unknown fibredis error " + std::to_string(value);
  }
};

std::string describe(std::error_code ec, std::string_view context) {
  std::string what;
  if (!context.empty()) {
    what.assign(context);
    what += ": ";
  }
  what += ec.message();
  return what;
}

[[noreturn]] void throw_fibredis(std::error_code ec, std::string what) {
  switch (static_cast<errc>(ec.value())) {
    case errc::timeout: throw TimeoutError(what, ec);
    case errc::cancelled:
    case errc::connection_closed:
    case errc::resolve_failed:
    case errc::not_connected: throw ConnectionError(what, ec);
    case errc::protocol_error: throw ProtocolError(what, ec);
    case errc::auth_failed: throw AuthenticationError(what, ec);
    case errc::usage: throw UsageError(what, ec);
    case errc::pool_timeout: throw PoolTimeoutError(what, ec);
    case errc::too_many_open_files: throw ResourceError(what, ec);
    case errc::call_cancelled: throw CancelledError(what, ec);
    case errc::call_timeout: throw TimeoutError(what, ec);
  }
  throw Error(what, ec);
}

// A kernel errno (system or generic category). Deadlines surface as ETIMEDOUT (connect, socket
// timeouts), ETIME (an io_uring timeout) or ECANCELED (an operation cancelled by its linked
// timeout); every other errno on our paths is a socket that could not be used.
[[noreturn]] void throw_errno(std::error_code ec, std::string what) {
  switch (ec.value()) {
    case ETIMEDOUT:
    case ETIME:
    case ECANCELED: throw TimeoutError(what, ec);
    case EMFILE:
    case ENFILE: throw ResourceError(what, ec);
    default: throw ConnectionError(what, ec);
  }
}

}  // namespace

const std::error_category& fibredis_category() noexcept {
  static const FibredisCategory category;
  return category;
}

void throw_error(std::error_code ec, std::string_view context) {
  std::string what = describe(ec, context);
  if (ec.category() == fibredis_category()) throw_fibredis(ec, std::move(what));
  if (ec.category() == std::system_category() || ec.category() == std::generic_category())
    throw_errno(ec, std::move(what));
  throw Error(what, ec);
}

}  // namespace fibredis
