// Command: a Redis command's arguments, kept already RESP-encoded.
//
// Each argument is appended once as "$<len>\r\n<bytes>\r\n" to one contiguous buffer (binary-safe,
// no allocation per argument); encode_to() only prepends "*<argc>\r\n". Argument views stay
// available for routing (key extraction, command name lookup).
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis {

class Command {
 public:
  Command() = default;
  Command(std::initializer_list<std::string_view> args);
  template <class Range>
    requires requires(const Range& r) {
      { *std::begin(r) } -> std::convertible_to<std::string_view>;
    }
  explicit Command(const Range& args) {
    for (const auto& a : args) arg(std::string_view(a));
  }

  Command& arg(std::string_view a);
  Command& arg(const char* a) { return arg(std::string_view(a)); }
  Command& arg(const std::string& a) { return arg(std::string_view(a)); }
  Command& arg(long long v);
  Command& arg(int v) { return arg(static_cast<long long>(v)); }
  Command& arg(long v) { return arg(static_cast<long long>(v)); }
  Command& arg(unsigned long long v);
  Command& arg(unsigned long v) { return arg(static_cast<unsigned long long>(v)); }
  Command& arg(unsigned v) { return arg(static_cast<unsigned long long>(v)); }
  /// Shortest text that reads back as the same double; "inf"/"-inf" for infinities.
  Command& arg(double v);
  template <class Range>
    requires requires(const Range& r) {
      { *std::begin(r) } -> std::convertible_to<std::string_view>;
    }
  Command& args(const Range& r) {
    for (const auto& a : r) arg(std::string_view(a));
    return *this;
  }

  std::size_t size() const noexcept { return spans_.size(); }
  bool empty() const noexcept { return spans_.empty(); }
  /// The i-th argument's bytes (0 is the command name as given).
  std::string_view operator[](std::size_t i) const noexcept {
    return std::string_view(body_.data() + spans_[i].offset, spans_[i].length);
  }
  std::string_view name() const noexcept { return empty() ? std::string_view() : (*this)[0]; }

  /// Appends the complete RESP array to `out`.
  void encode_to(std::string& out) const;
  /// Number of bytes encode_to() appends.
  std::size_t encoded_size() const noexcept;

  /// Set for commands the server may hold (BLPOP, BRPOP, XREAD BLOCK, WAIT...): how long it may
  /// block before answering. Zero means "forever". The client adds this to the call's deadline and
  /// sends such commands on an exclusive connection so they never stall a shared one.
  std::optional<std::chrono::milliseconds> blocking;

 private:
  struct Span {
    std::uint32_t offset;
    std::uint32_t length;
  };
  void append_raw(std::string_view bytes);

  std::string body_;         // "$len\r\nbytes\r\n" per argument, back to back
  std::vector<Span> spans_;  // where each argument's bytes sit inside body_
};

/// `s` in ASCII upper case: command names in messages and table look-ups ("get" → "GET").
std::string ascii_upper(std::string_view s);

}  // namespace fibredis
