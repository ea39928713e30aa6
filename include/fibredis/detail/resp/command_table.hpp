// The command table's rows (lib/resp/command_table.cpp): one CommandInfo per command and
// subcommand the client knows, for lookup_command() in lib/resp/command_info.cpp. Internal (not
// installed): the public view of a row is resp/command_info.hpp's lookup_command().
#pragma once

#include <fibredis/resp/command_info.hpp>

#include <cstddef>
#include <span>

namespace fibredis::detail {

/// Every row, sorted by the byte value of its upper-case name (checked at compile time where
/// the rows are), so that a lookup is a binary search.
extern const std::span<const CommandInfo> kCommandTable;
/// The longest name in the table ("PARENT|SUB" for a subcommand): a longer query cannot match.
extern const std::size_t kLongestCommandName;

}  // namespace fibredis::detail
