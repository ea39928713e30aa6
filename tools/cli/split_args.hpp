// Splits one interactive line into arguments the way redis-cli does (its sdssplitargs rules), so a
// line pasted from a redis-cli session means the same here: words split on blanks; "double quotes"
// with \n \r \t \b \a \\ \" and \xHH escapes; 'single quotes' with only \' escaped; a closing quote
// must be followed by a blank or the end. Pure logic, unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis::cli {

/// The arguments of `line`; nullopt when its quotes are unbalanced or a closing quote is glued to
/// the next word (redis-cli answers "Invalid argument(s)" then).
std::optional<std::vector<std::string>> split_args(std::string_view line);

}  // namespace fibredis::cli
