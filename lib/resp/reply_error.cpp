// throw_reply_error (errors.hpp): the exception for a server's error reply. It lives in resp/,
// not in lib/errors.cpp, because choosing the type means reading the reply's text
// (classify_error, detail/resp/error_reply.hpp): errors.cpp maps error codes only and depends on
// no layer. Not in error_reply.cpp, which is built without exceptions in mind (lib/meson.build's
// nothrow_sources).
#include <fibredis/errors.hpp>

#include <fibredis/detail/resp/error_reply.hpp>

#include <string>

namespace fibredis {

void throw_reply_error(std::string_view server_text) {
  std::string what(server_text);
  switch (classify_error(server_text)) {
    case ErrorKind::Auth: throw AuthenticationError(what, make_error_code(errc::auth_failed));
    case ErrorKind::ClusterDown: throw ClusterDownError(what);
    case ErrorKind::TryAgain: throw TryAgainError(what);
    case ErrorKind::CrossSlot: throw CrossSlotError(what);
    default: throw ResponseError(what);
  }
}

}  // namespace fibredis
