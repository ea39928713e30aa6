// Reply: one RESP2 value (status, error, integer, bulk string or nil, array), built directly by the
// hiredis reader with our own object functions (detail/resp/reader.hpp), so no redisReply copy step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fibredis {

class Reply {
 public:
  enum class Type : std::uint8_t { Nil, Status, Error, Integer, String, Array };

  Reply() = default;  // Nil

  static Reply nil() { return Reply(); }
  static Reply status(std::string s) { return Reply(Type::Status, std::move(s)); }
  static Reply error(std::string s) { return Reply(Type::Error, std::move(s)); }
  static Reply string(std::string s) { return Reply(Type::String, std::move(s)); }
  static Reply integer(long long v) {
    Reply r;
    r.type_ = Type::Integer;
    r.int_ = v;
    return r;
  }
  static Reply array(std::vector<Reply> elements) {
    Reply r;
    r.type_ = Type::Array;
    r.elements_ = std::move(elements);
    return r;
  }

  Type type() const noexcept { return type_; }
  bool is_nil() const noexcept { return type_ == Type::Nil; }
  bool is_status() const noexcept { return type_ == Type::Status; }
  bool is_error() const noexcept { return type_ == Type::Error; }
  bool is_integer() const noexcept { return type_ == Type::Integer; }
  bool is_string() const noexcept { return type_ == Type::String; }
  bool is_array() const noexcept { return type_ == Type::Array; }

  /// Text of a Status, Error or String reply; empty for other types.
  std::string_view str() const noexcept { return str_; }
  std::string take_str() noexcept { return std::move(str_); }
  long long integer() const noexcept { return int_; }
  const std::vector<Reply>& elements() const noexcept { return elements_; }
  std::vector<Reply>& elements() noexcept { return elements_; }

  /// Throws (via throw_reply_error) if this is an error reply; returns *this otherwise.
  const Reply& value() const&;
  Reply&& value() &&;

  // Conversions used by the typed commands. Each throws ResponseError (or the matching subclass) on
  // an error reply and ProtocolError on a reply of another shape.
  std::string as_string() const;                    // String or Status
  std::optional<std::string> as_optional_string() const;  // String, Status or Nil
  long long as_integer() const;                     // Integer (or a String holding an integer)
  std::optional<long long> as_optional_integer() const;
  double as_double() const;                         // String holding a float ("1.5", "inf")
  std::optional<double> as_optional_double() const;
  bool as_bool() const;                             // Integer 0/1, Status OK → true, Nil → false
  std::vector<std::string> as_string_vector() const;
  std::vector<std::optional<std::string>> as_optional_string_vector() const;

  bool operator==(const Reply& other) const;
  /// Debug form, e.g. `["a", 1, nil, (error) ERR x]`.
  std::string to_string() const;

 private:
  Reply(Type t, std::string s) : type_(t), str_(std::move(s)) {}

  Type type_ = Type::Nil;
  long long int_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

}  // namespace fibredis
