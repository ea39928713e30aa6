#include "cli/reply_format.hpp"

#include <cstdio>

namespace fibredis::cli {
namespace {

std::size_t digits(std::size_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// `indent` is what a nested element's continuation lines start with: redis-cli indents each level
// by the width of its parent's numbers plus the ") " after them.
void standard(const Reply& r, const std::string& indent, std::string& out) {
  switch (r.type()) {
    case Reply::Type::Nil: out += "(nil)\n"; return;
    case Reply::Type::Status: out.append(r.str()).push_back('\n'); return;
    case Reply::Type::Error: out.append("(error) ").append(r.str()).push_back('\n'); return;
    case Reply::Type::Integer: out.append("(integer) ").append(std::to_string(r.integer())).push_back('\n'); return;
    case Reply::Type::String: out.append(quote(r.str())).push_back('\n'); return;
    case Reply::Type::Array: break;
  }
  const auto& elements = r.elements();
  if (elements.empty()) {
    out += "(empty array)\n";
    return;
  }
  const std::size_t width = digits(elements.size());
  const std::string child_indent = indent + std::string(width + 2, ' ');
  for (std::size_t i = 0; i < elements.size(); ++i) {
    // The first element's line already carries the parent's number, so only later ones indent.
    if (i > 0) out += indent;
    const std::string number = std::to_string(i + 1);
    out.append(width - number.size(), ' ').append(number).append(") ");
    standard(elements[i], child_indent, out);
  }
}

void raw(const Reply& r, std::string& out) {
  switch (r.type()) {
    case Reply::Type::Nil: return;
    case Reply::Type::Error: out.append(r.str()).push_back('\n'); return;
    case Reply::Type::Status:
    case Reply::Type::String: out.append(r.str()); return;
    case Reply::Type::Integer: out.append(std::to_string(r.integer())); return;
    case Reply::Type::Array: break;
  }
  const auto& elements = r.elements();
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out.push_back('\n');
    raw(elements[i], out);
  }
}

}  // namespace

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
          out.push_back(c);
        } else {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        }
      }
    }
  }
  out.push_back('"');
  return out;
}

std::string format_standard(const Reply& reply) {
  std::string out;
  standard(reply, "", out);
  return out;
}

std::string format_raw(const Reply& reply) {
  std::string out;
  raw(reply, out);
  out.push_back('\n');  // redis-cli's command delimiter after every reply
  return out;
}

}  // namespace fibredis::cli
