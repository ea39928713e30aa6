// How fibredis-cli prints a reply: byte for byte what redis-cli 7 prints, in its two output modes
// (redis-cli picks "standard" on a terminal and "raw" otherwise; --raw / --no-raw force one).
// Pure functions, so the unit tests check them without a server.
#pragma once

#include <fibredis/resp/reply.hpp>

#include <string>
#include <string_view>

namespace fibredis::cli {

/// redis-cli's standard (terminal) form: "(integer) 1", "(nil)", "\"quoted\"", "(error) ERR x",
/// "(empty array)", arrays numbered "1) ...", nested arrays indented under their number. Ends with
/// a newline.
std::string format_standard(const Reply& reply);

/// redis-cli's raw form (--raw, or stdout not a terminal): bare strings and integers, nil as an
/// empty line, array elements one per line, an error's text followed by an empty line.
std::string format_raw(const Reply& reply);

/// A string as redis-cli quotes it: in double quotes, with \\ \" \n \r \t \a \b escaped and other
/// unprintable bytes as \xHH.
std::string quote(std::string_view s);

}  // namespace fibredis::cli
