#include "fibredis/resp/reply.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "fibredis/errors.hpp"

namespace fibredis {

namespace {

const char* type_name(Reply::Type t) noexcept {
  switch (t) {
    case Reply::Type::Nil: return "nil";
    case Reply::Type::Status: return "status";
    case Reply::Type::Error: return "error";
    case Reply::Type::Integer: return "integer";
    case Reply::Type::String: return "string";
    case Reply::Type::Array: return "array";
  }
  return "unknown";
}

[[noreturn]] void throw_shape(const Reply& r, const char* expected) {
  if (r.is_error()) throw_reply_error(r.str());
  std::string what = "expected ";
  what += expected;
  what += " reply, got ";
  what += type_name(r.type());
  throw ProtocolError(what, make_error_code(errc::protocol_error));
}

[[noreturn]] void throw_bad_text(std::string_view text, const char* expected) {
  std::string what = "expected ";
  what += expected;
  what += ", got \"";
  what.append(text.substr(0, 64));
  what += '"';
  throw ProtocolError(what, make_error_code(errc::protocol_error));
}

// The whole of `text` as a decimal integer, or false. Redis never sends a '+' or spaces here.
bool parse_integer(std::string_view text, long long& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

// Redis formats doubles with "%.17g" (ZSCORE, INCRBYFLOAT, GEODIST...), and spells the
// infinities "inf"/"-inf"; RESP3-era servers may also send "+inf". NaN is never a valid score.
bool parse_double(std::string_view text, double& out) noexcept {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return false;
  }
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  return ec == std::errc() && ptr == end && !std::isnan(out);
}

bool is_text(const Reply& r) noexcept { return r.is_string() || r.is_status(); }

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
      }
    }
  }
  out += '"';
}

void append_debug(std::string& out, const Reply& r) {
  switch (r.type()) {
    case Reply::Type::Nil: out += "nil"; break;
    case Reply::Type::Status: out += r.str(); break;
    case Reply::Type::Error:
      out += "(error) ";
      out += r.str();
      break;
    case Reply::Type::Integer: out += std::to_string(r.integer()); break;
    case Reply::Type::String: append_quoted(out, r.str()); break;
    case Reply::Type::Array: {
      out += '[';
      bool first = true;
      for (const Reply& e : r.elements()) {
        if (!first) out += ", ";
        first = false;
        append_debug(out, e);
      }
      out += ']';
      break;
    }
  }
}

}  // namespace

const Reply& Reply::value() const& {
  if (is_error()) throw_reply_error(str_);
  return *this;
}

Reply&& Reply::value() && {
  if (is_error()) throw_reply_error(str_);
  return std::move(*this);
}

std::string Reply::as_string() const {
  if (!is_text(*this)) throw_shape(*this, "a string");
  return str_;
}

std::optional<std::string> Reply::as_optional_string() const {
  if (is_nil()) return std::nullopt;
  if (!is_text(*this)) throw_shape(*this, "a string or nil");
  return str_;
}

long long Reply::as_integer() const {
  if (is_integer()) return int_;
  if (!is_string()) throw_shape(*this, "an integer");
  long long v = 0;
  if (!parse_integer(str_, v)) throw_bad_text(str_, "an integer");
  return v;
}

std::optional<long long> Reply::as_optional_integer() const {
  if (is_nil()) return std::nullopt;
  return as_integer();
}

double Reply::as_double() const {
  if (is_integer()) return static_cast<double>(int_);
  if (!is_string()) throw_shape(*this, "a float");
  double v = 0;
  if (!parse_double(str_, v)) throw_bad_text(str_, "a float");
  return v;
}

std::optional<double> Reply::as_optional_double() const {
  if (is_nil()) return std::nullopt;
  return as_double();
}

bool Reply::as_bool() const {
  switch (type_) {
    case Type::Integer: return int_ != 0;
    case Type::Nil: return false;
    case Type::Status:
      if (str_ == "OK") return true;
      throw_bad_text(str_, "OK");
    case Type::String:
      if (str_ == "1") return true;
      if (str_ == "0") return false;
      throw_bad_text(str_, "1 or 0");
    default: throw_shape(*this, "an integer, OK or nil");
  }
}

std::vector<std::string> Reply::as_string_vector() const {
  if (!is_array()) throw_shape(*this, "an array");
  std::vector<std::string> out;
  out.reserve(elements_.size());
  for (const Reply& e : elements_) {
    if (!is_text(e)) throw_shape(e, "a string element");
    out.push_back(e.str_);
  }
  return out;
}

std::vector<std::optional<std::string>> Reply::as_optional_string_vector() const {
  if (!is_array()) throw_shape(*this, "an array");
  std::vector<std::optional<std::string>> out;
  out.reserve(elements_.size());
  for (const Reply& e : elements_) {
    if (e.is_nil()) {
      out.emplace_back();
    } else if (is_text(e)) {
      out.emplace_back(e.str_);
    } else {
      throw_shape(e, "a string or nil element");
    }
  }
  return out;
}

bool Reply::operator==(const Reply& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::Nil: return true;
    case Type::Integer: return int_ == other.int_;
    case Type::Status:
    case Type::Error:
    case Type::String: return str_ == other.str_;
    case Type::Array: return elements_ == other.elements_;
  }
  return false;
}

std::string Reply::to_string() const {
  std::string out;
  append_debug(out, *this);
  return out;
}

}  // namespace fibredis
