#include <fibredis/client/wait_batch.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/resp/command_info.hpp>

#include <cctype>
#include <string>

namespace fibredis {
namespace {

std::string upper(std::string_view s) { return ascii_upper(s); }

// A command whose effect WAIT can count: anything the table does not call read-only, except
// WAITs themselves and keyless commands that touch no data (PING, ECHO, INFO...). Scripts and
// functions (EVAL, FCALL) are neither read-only nor "write" in COMMAND's flags but may write;
// commands unknown to the table (modules) are assumed to write.
bool may_write(const Command& cmd) {
  const CommandInfo* info = lookup_command(cmd);
  if (info == nullptr) return true;
  if (info->has(kOwnWrites) || info->has(kReadOnly)) return false;
  return info->has(kWrite) || info->key_rule == KeyRule::NumKeysAt2;
}

}  // namespace

bool counts_own_writes(const Command& cmd) noexcept {
  // Filter on the name's shape first: this runs on every single-node call.
  const std::string_view name = cmd.name();
  if ((name.size() != 4 && name.size() != 7) || (name[0] != 'w' && name[0] != 'W')) return false;
  const CommandInfo* info = lookup_command(cmd);
  return info != nullptr && info->has(kOwnWrites);
}

void refuse_lone_wait(const Command& cmd) {
  throw UsageError(upper(cmd.name()) + " cannot be sent on its own: " + std::string(kLoneWaitReason));
}

WaitBatch check_wait_batch(const Command* cmds, std::size_t n, bool transaction) {
  WaitBatch out;
  bool wrote = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!counts_own_writes(cmds[i])) {
      if (out.trailing > 0 && transaction)
        throw UsageError(upper(cmds[i - 1].name()) +
                         " inside a transaction must come after every other command: it is sent "
                         "after EXEC, because the server never blocks inside MULTI");
      out.trailing = 0;
      wrote = wrote || may_write(cmds[i]);
      continue;
    }
    const std::string name = upper(cmds[i].name());
    if (!wrote)
      throw UsageError(name + " must follow the writes it counts in the same pipeline (none "
                       "before it here): on a connection that wrote nothing it reports every "
                       "replica as caught up");
    const auto timeout = blocking_timeout(cmds[i]);
    if (timeout && timeout->count() == 0)
      throw UsageError(name + " with timeout 0 would wait forever for a replica that may never "
                       "answer; give it a timeout in milliseconds");
    out.any = true;
    ++out.trailing;
  }
  return out;
}

}  // namespace fibredis
