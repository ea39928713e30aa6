#include "fibredis/resp/command.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "fibredis/errors.hpp"

namespace fibredis {

namespace {

// "$" + up to 20 digits + "\r\n"
constexpr std::size_t kMaxHeader = 1 + 20 + 2;

std::size_t decimal_digits(std::size_t v) noexcept {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Bytes one argument of `len` bytes takes in body_: "$<len>\r\n<bytes>\r\n".
std::size_t encoded_arg_size(std::size_t len) noexcept {
  return 1 + decimal_digits(len) + 2 + len + 2;
}

}  // namespace

Command::Command(std::initializer_list<std::string_view> args) {
  std::size_t total = 0;
  for (std::string_view a : args) total += encoded_arg_size(a.size());
  body_.reserve(total);
  spans_.reserve(args.size());
  for (std::string_view a : args) arg(a);
}

Command& Command::arg(std::string_view a) {
  append_raw(a);
  return *this;
}

Command& Command::arg(long long v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes always hold a 64-bit integer
  append_raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  return *this;
}

Command& Command::arg(unsigned long long v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  append_raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  return *this;
}

Command& Command::arg(double v) {
  if (std::isnan(v)) throw UsageError("Command::arg: NaN is not a valid Redis number",
                                      make_error_code(errc::usage));
  // Shortest round-trip form; std::to_chars spells infinities "inf"/"-inf", which Redis parses
  // (strtold) for ZADD, ZRANGEBYSCORE, INCRBYFLOAT and friends.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 32 bytes hold the longest shortest-form double ("-2.2250738585072014e-308")
  append_raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  return *this;
}

void Command::append_raw(std::string_view bytes) {
  const std::size_t old_size = body_.size();
  const std::size_t len = bytes.size();
  // Spans are 32-bit, so the whole body (not just one argument) must stay addressable by them.
  // Redis refuses bulk strings past proto-max-bulk-len (512 MB by default) anyway.
  constexpr std::size_t kLimit = std::numeric_limits<std::uint32_t>::max();
  if (len > kLimit || kLimit - old_size < encoded_arg_size(len))
    throw UsageError("Command::arg: command larger than 4 GiB", make_error_code(errc::usage));

  char header[kMaxHeader];
  header[0] = '$';
  auto [end, ec] = std::to_chars(header + 1, header + kMaxHeader - 2, len);
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  const std::size_t header_len = static_cast<std::size_t>(end - header);

  // The argument may be a view into body_ itself (cmd.arg(cmd[1])); growing the buffer would
  // leave it dangling, so find it again by offset after the one reallocation.
  const char* src = bytes.data();
  const bool aliases = len != 0 && src >= body_.data() && src < body_.data() + old_size;
  const std::size_t src_offset = aliases ? static_cast<std::size_t>(src - body_.data()) : 0;
  body_.reserve(old_size + header_len + len + 2);
  if (aliases) src = body_.data() + src_offset;
  spans_.push_back(Span{static_cast<std::uint32_t>(old_size + header_len),
                        static_cast<std::uint32_t>(len)});

  // Capacity is reserved, so these cannot throw: a failed arg() leaves the command unchanged.
  body_.append(header, header_len);
  body_.append(src, len);
  body_.append("\r\n", 2);
}

void Command::encode_to(std::string& out) const {
  char header[kMaxHeader];
  header[0] = '*';
  auto [end, ec] = std::to_chars(header + 1, header + kMaxHeader - 2, spans_.size());
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  const std::size_t header_len = static_cast<std::size_t>(end - header);
  out.reserve(out.size() + header_len + body_.size());
  out.append(header, header_len);
  out.append(body_);
}

std::size_t Command::encoded_size() const noexcept {
  return 1 + decimal_digits(spans_.size()) + 2 + body_.size();
}

std::string ascii_upper(std::string_view s) {
  std::string u(s);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return u;
}

}  // namespace fibredis
