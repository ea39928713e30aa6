// fibredis error model, shared by every layer.
//
// Below the client surface (runtime, net, resp, conn) failures travel as std::error_code values:
// kernel failures keep their errno in std::system_category(), our own conditions use fibredis::errc.
// The user-facing surface (Client, ClusterClient, pipelines) throws the exception hierarchy below,
// and only through throw_error()/throw_reply_error(), so the mapping lives in one place.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis {

enum class errc {
  /// An operation's deadline expired before it completed.
  timeout = 1,
  /// The operation was cancelled (connection closed underneath it, runtime stopping).
  cancelled,
  /// The peer closed the connection, or it broke while a reply was outstanding.
  connection_closed,
  /// Bytes from the server are not valid RESP.
  protocol_error,
  /// A host name could not be resolved.
  resolve_failed,
  /// The server refused our credentials (WRONGPASS, NOAUTH, invalid password).
  auth_failed,
  /// The connection is not usable (never connected, or already known broken).
  not_connected,
  /// The caller asked for something the client does not allow (bad argument, blocked command).
  usage,
  /// No pooled connection became free within pool_timeout (max_connections are all in use).
  pool_timeout,
  /// The process or system ran out of file descriptors (EMFILE/ENFILE), even after the pool shed
  /// its idle connections: a local shortage, never a fault of the server.
  too_many_open_files,
  /// The caller cancelled the call (CancelSource::cancel); a blocked command was unblocked.
  call_cancelled,
  /// The caller's own deadline (CancelScope) passed first; a blocked command was unblocked and
  /// the server answered it, so the node is healthy.
  call_timeout,
};

const std::error_category& fibredis_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), fibredis_category()};
}

// ---- the exception hierarchy thrown at the client surface ----------------------------

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::error_code code = {})
      : std::runtime_error(what), code_(code) {}
  std::error_code code() const noexcept { return code_; }

 private:
  std::error_code code_;
};

/// Connecting failed, or the connection broke (refused, reset, closed by the peer, DNS failure).
class ConnectionError : public Error { using Error::Error; };
/// A deadline expired: connect, command, pool wait, or a whole cluster call.
class TimeoutError : public Error { using Error::Error; };
/// Every pooled connection to the server stayed in use for pool_timeout (max_connections reached).
class PoolTimeoutError : public TimeoutError { using TimeoutError::TimeoutError; };
/// The call was cancelled through its CancelToken (runtime/cancel.hpp).
class CancelledError : public Error { using Error::Error; };
/// A local resource ran out: file descriptors (EMFILE/ENFILE) after the pool shed idle ones.
class ResourceError : public Error { using Error::Error; };
/// The server rejected our credentials (WRONGPASS, NOAUTH, ...).
class AuthenticationError : public Error { using Error::Error; };
/// The server sent bytes that are not valid RESP, or a reply of an unexpected shape.
class ProtocolError : public Error { using Error::Error; };
/// The server answered with an error reply; what() is the server's text.
class ResponseError : public Error { using Error::Error; };
/// A WATCHed key changed: EXEC answered nil and nothing of the transaction ran.
class WatchError : public Error { using Error::Error; };
/// The caller asked for something not allowed here (a command blocked in cluster mode, ...).
class UsageError : public Error { using Error::Error; };
/// Cluster-level failures.
class ClusterError : public Error { using Error::Error; };
class ClusterDownError : public ClusterError { using ClusterError::ClusterError; };
class TryAgainError : public ClusterError { using ClusterError::ClusterError; };
class CrossSlotError : public ClusterError { using ClusterError::ClusterError; };
class SlotNotCoveredError : public ClusterError { using ClusterError::ClusterError; };
/// MOVED/ASK/TRYAGAIN/connection retries ran past max_redirects ("TTL exhausted").
class RedirectLimitError : public ClusterError { using ClusterError::ClusterError; };

/// Throws the exception that matches `ec`, with `context` (e.g. "connect 127.0.0.1:6379") in what().
[[noreturn]] void throw_error(std::error_code ec, std::string_view context);

/// Throws the exception that matches a server error reply's text ("WRONGPASS ...", "CROSSSLOT ...").
/// Defined in lib/resp/reply_error.cpp: reading the text is the resp layer's job.
[[noreturn]] void throw_reply_error(std::string_view server_text);

}  // namespace fibredis

template <>
struct std::is_error_code_enum<fibredis::errc> : std::true_type {};
