#include "cli/split_args.hpp"


namespace fibredis::cli {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> args;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (true) {
    while (i < n && blank(line[i])) ++i;
    if (i == n) return args;
    std::string arg;
    enum class Quote { None, Double, Single } q = Quote::None;
    bool done = false;
    while (!done) {
      if (q == Quote::Double) {
        if (i == n) return std::nullopt;  // unterminated "
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          arg.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 4;
        } else if (line[i] == '\\' && i + 1 < n) {
          const char e = line[i + 1];
          arg.push_back(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == 'b' ? '\b' : e == 'a' ? '\a' : e);
          i += 2;
        } else if (line[i] == '"') {
          ++i;
          if (i < n && !blank(line[i])) return std::nullopt;  // "foo"bar is refused, as redis-cli does
          done = true;
        } else {
          arg.push_back(line[i++]);
        }
      } else if (q == Quote::Single) {
        if (i == n) return std::nullopt;  // unterminated '
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          arg.push_back('\'');
          i += 2;
        } else if (line[i] == '\'') {
          ++i;
          if (i < n && !blank(line[i])) return std::nullopt;
          done = true;
        } else {
          arg.push_back(line[i++]);
        }
      } else if (i == n || blank(line[i])) {
        done = true;
      } else if (line[i] == '"') {
        q = Quote::Double;
        ++i;
      } else if (line[i] == '\'') {
        q = Quote::Single;
        ++i;
      } else {
        arg.push_back(line[i++]);
      }
    }
    args.push_back(std::move(arg));
  }
}

}  // namespace fibredis::cli
