#include "fibredis/detail/resp/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <new>
#include <utility>

#include <hiredis/read.h>
extern "C" {  // hiredis 0.14's sds.h has no C++ guard of its own
#include <hiredis/sds.h>
}

#include "fibredis/errors.hpp"

// How the hiredis 0.14 reader drives the callbacks below (read.c):
//  - Every object is created with the task it answers. The root task has parent == NULL; a child
//    task has parent->obj == the pointer we returned from createArray for its array, and idx ==
//    its position. Children of an array are created strictly in order 0..n-1, each completely
//    (grandchildren included) before its next sibling.
//  - The root object is stored in reader->reply as soon as it exists (for an array: before its
//    children), and hiredis frees it with freeObject on error, on redisReaderFree, or hands it to
//    us from redisReaderGetReply. freeObject is only ever called on that root.
//  - A callback returning NULL makes the reader fail with "Out of memory" (and free the root).
//
// So the tree owns itself: the root lives in State::root (no allocation per reply), each child is
// constructed in place in its parent's element vector, and freeObject only has to reset the root.
// A pointer to a child is only used by hiredis until that child is complete, so appending a later
// sibling (which may move earlier ones) never invalidates a pointer hiredis still holds.

namespace fibredis {

struct ReplyReader::State {
  redisReader* reader = nullptr;
  Reply root;
  // Set when a callback rejects input that hiredis itself accepts (bad bulk terminator);
  // replaces hiredis's generic "Out of memory" text.
  const char* error_override = nullptr;
  // max_reply_bytes, counted in wire bytes of one reply. `consumed` is how many bytes of the
  // reply in progress hiredis parsed in earlier next() calls; `call_pos` is r->pos when the
  // current redisReaderGetReply began (everything before it belongs to replies handed out), so
  // inside a callback the reply's bytes up to buffer position p are consumed + (p - call_pos).
  std::size_t max_bytes = 0;
  std::size_t consumed = 0;
  std::size_t call_pos = 0;
  // Set when next() finds the limit exceeded by bytes hiredis has not parsed yet (hiredis itself
  // is then not in error): the reader stays failed on our side.
  bool over_limit = false;
  std::string limit_text;

  ~State() {
    // Frees a half-built root through free_object, so `root` must still be alive here.
    if (reader != nullptr) redisReaderFree(reader);
  }
};

namespace {

// The smallest an element can be on the wire ("+\r\n"): an array announcing n elements needs at
// least 3n more bytes, and the bytes already received hold at most a third as many elements.
// Both bound what an untrusted "*<n>" header can make us reserve.
constexpr std::size_t kMinElementBytes = 3;

using State = ReplyReader::State;

State& state_of(const redisReadTask* task) { return *static_cast<State*>(task->privdata); }

// Records why the reply was refused; the caller then fails (a callback returns NULL).
[[gnu::noinline]] void refuse(State& st, const char* what) {
  st.limit_text = std::string(what) + " exceeds max_reply_bytes (" + std::to_string(st.max_bytes) +
                  ")";
  st.error_override = st.limit_text.c_str();
}

// Bytes of the reply in progress from its start up to (not including) buffer position `pos`,
// valid inside the current redisReaderGetReply call (hiredis moves its buffer only at the end).
std::size_t reply_bytes_to(const State& st, std::size_t pos) {
  return st.consumed + (pos - st.call_pos);
}

// The reply's bytes so far plus `more` fit in max_reply_bytes (written so nothing overflows).
bool fits(const State& st, std::size_t so_far, std::size_t more) {
  return so_far <= st.max_bytes && more <= st.max_bytes - so_far;
}

// Stores `value` where the task says and returns the pointer hiredis keeps for it.
void* place(const redisReadTask* task, Reply&& value) {
  if (task->parent == nullptr) {
    auto* state = static_cast<State*>(task->privdata);
    state->root = std::move(value);
    return &state->root;
  }
  auto* parent = static_cast<Reply*>(task->parent->obj);
  std::vector<Reply>& elements = parent->elements();
  if (task->idx < 0 || static_cast<std::size_t>(task->idx) != elements.size()) return nullptr;
  elements.push_back(std::move(value));
  return &elements.back();
}

Reply make_text(int type, std::string text) {
  switch (type) {
    case REDIS_REPLY_STATUS: return Reply::status(std::move(text));
    case REDIS_REPLY_ERROR: return Reply::error(std::move(text));
    default: return Reply::string(std::move(text));
  }
}

// The callbacks run inside C code: nothing may propagate out of them. Returning NULL is how a
// callback fails, and hiredis then frees the partial tree.
void* create_string(const redisReadTask* task, char* data, size_t len) noexcept {
  if (task->type == REDIS_REPLY_STRING && (data[len] != '\r' || data[len + 1] != '\n')) {
    // hiredis skips the two bytes after a bulk string's payload without looking at them; if
    // they are not CRLF, the length lied and everything after it would be misparsed. (The buffer
    // holds len + 2 bytes here: hiredis checked before calling us.)
    state_of(task).error_override = "Bad bulk string terminator";
    return nullptr;
  }
  try {
    // Refused before the copy: the element ends 2 bytes (CRLF) after its payload.
    State& st = state_of(task);
    const std::size_t start = static_cast<std::size_t>(data - st.reader->buf);
    if (!fits(st, reply_bytes_to(st, start), len + 2)) {
      refuse(st, task->type == REDIS_REPLY_STRING ? "Bulk string" : "Reply");
      return nullptr;
    }
    return place(task, make_text(task->type, std::string(data, len)));
  } catch (...) {
    return nullptr;
  }
}

void* create_array(const redisReadTask* task, int n) noexcept {
  if (n < 0) return nullptr;
  try {
    State& st = state_of(task);
    const auto count = static_cast<std::size_t>(n);
    // hiredis has consumed the header line (readLine), so buf[pos, len) is what follows it.
    // The least the elements will take is refused before anything is reserved.
    const redisReader* r = st.reader;
    if (count > st.max_bytes / kMinElementBytes ||
        !fits(st, reply_bytes_to(st, r->pos), count * kMinElementBytes)) {
      refuse(st, "Array");
      return nullptr;
    }
    const std::size_t present = r->len - r->pos;
    std::vector<Reply> elements;
    elements.reserve(std::min(count, present / kMinElementBytes));
    return place(task, Reply::array(std::move(elements)));
  } catch (...) {
    return nullptr;
  }
}

void* create_integer(const redisReadTask* task, long long v) noexcept {
  try {
    return place(task, Reply::integer(v));
  } catch (...) {
    return nullptr;
  }
}

void* create_nil(const redisReadTask* task) noexcept {
  try {
    return place(task, Reply::nil());
  } catch (...) {
    return nullptr;
  }
}

void free_object(void* obj) noexcept {
  // Always State::root (see the top of this file); resetting releases the whole tree. Resetting
  // rather than deleting also keeps this harmless should a future hiredis pass a child.
  *static_cast<Reply*>(obj) = Reply();
}

redisReplyObjectFunctions kFunctions = {
    create_string, create_array, create_integer, create_nil, free_object,
};

}  // namespace

ReplyReader::ReplyReader(std::size_t max_reply_bytes) noexcept : max_bytes_(max_reply_bytes) {}

void ReplyReader::ensure_state() {
  if (state_) return;
  auto st = std::make_unique<State>();
  st->max_bytes = max_bytes_;
  st->reader = redisReaderCreateWithFunctions(&kFunctions);
  if (st->reader == nullptr) throw std::bad_alloc();
  // Every task (root and children) carries this pointer; the root callbacks use it to find
  // State::root. State lives on the heap, so moving the ReplyReader keeps it valid.
  st->reader->privdata = st.get();
  // maxbuf stays at hiredis's default (16 KiB): an emptied buffer larger than that is released,
  // so one huge reply does not pin its memory for the connection's lifetime.
  state_ = std::move(st);
}

ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

void ReplyReader::feed(const char* data, std::size_t n) {
  if (n == 0) return;
  ensure_state();
  // Fails when already in error (ignored: next() reports it) or when this append runs out of
  // memory, which leaves the reader in error too.
  if (has_error()) return;
  if (redisReaderFeed(state_->reader, data, n) != REDIS_OK) throw std::bad_alloc();
}

namespace {

// After hiredis stopped short of a complete reply, with `fed` bytes of it received: refuses it
// when those bytes, or the bulk string whose header is already there, pass max_reply_bytes.
// hiredis reads the type byte before the length, so a bulk in progress has r->pos at its digits.
// Out of line (as is refuse()): next() runs the hiredis parser and its callbacks below its own
// frame, at the deepest point of a connection's handshake, so that frame is kept small.
[[gnu::noinline]] bool within_limit(State& st, std::size_t fed) {
  const redisReader* r = st.reader;
  if (r->ridx >= 0 && r->rstack[r->ridx].type == REDIS_REPLY_STRING) {
    const char* digits = r->buf + r->pos;
    const char* end = r->buf + r->len;
    const auto* cr = static_cast<const char*>(std::memchr(digits, '\r', r->len - r->pos));
    long long announced = 0;
    // Only a whole header line: hiredis has then already accepted the length (else it would be
    // in error), so the refusal never depends on how the line's bytes arrived.
    if (cr != nullptr && cr + 1 < end && cr[1] == '\n' &&
        std::from_chars(digits, cr, announced).ptr == cr && announced >= 0) {
      // Header, payload and its CRLF; the header's own CRLF is 2 more bytes past `cr`.
      const std::size_t header_end = st.consumed + static_cast<std::size_t>(cr - digits) + 2;
      if (static_cast<unsigned long long>(announced) > st.max_bytes ||
          !fits(st, header_end, static_cast<std::size_t>(announced) + 2)) {
        refuse(st, "Bulk string");
        return false;
      }
    }
  }
  if (fed > st.max_bytes) {
    refuse(st, "Reply");
    return false;
  }
  return true;
}

}  // namespace

std::optional<Reply> ReplyReader::next(std::error_code& ec) {
  if (!state_) {  // nothing fed since the last release()
    ec.clear();
    return std::nullopt;
  }
  State& st = *state_;
  redisReader* r = st.reader;
  void* obj = nullptr;
  const std::size_t len_before = r->len;
  st.call_pos = r->pos;
  if (st.over_limit || redisReaderGetReply(r, &obj) != REDIS_OK) {
    ec = make_error_code(errc::protocol_error);
    return std::nullopt;
  }
  ec.clear();
  // Where hiredis stopped, in the buffer as it was during the call: at its end hiredis drops the
  // consumed front (pos >= 1 KiB), shortening len by the same amount.
  const std::size_t stop = r->pos + (len_before - r->len);
  const std::size_t parsed = reply_bytes_to(st, stop);
  if (obj == nullptr) {
    st.consumed = parsed;
    if (!within_limit(st, parsed + (r->len - r->pos))) {
      st.over_limit = true;
      ec = make_error_code(errc::protocol_error);
    }
    return std::nullopt;
  }
  st.consumed = 0;
  // obj is &st.root: hiredis has let go of it, so the tree is ours to move out.
  std::optional<Reply> out(std::in_place, std::move(st.root));
  st.root = Reply();
  if (parsed > st.max_bytes) {  // a reply made of many small lines, parsed in one call
    refuse(st, "Reply");
    st.over_limit = true;
    ec = make_error_code(errc::protocol_error);
    return std::nullopt;
  }
  return out;
}

bool ReplyReader::has_error() const noexcept {
  return state_ && (state_->reader->err != 0 || state_->over_limit);
}

bool ReplyReader::empty() const noexcept {
  if (!state_) return true;
  const redisReader* r = state_->reader;
  return r->err == 0 && r->ridx == -1 && r->pos >= r->len;
}

void ReplyReader::release() noexcept {
  if (empty()) state_.reset();
}

void ReplyReader::release_buffer() noexcept {
  if (!state_) return;
  redisReader* r = state_->reader;
  if (!empty() || r->buf == nullptr || sdsalloc(r->buf) == 0) return;
  // sdsempty() allocates a few bytes only; if even that fails, keep the old buffer (emptied).
  sds fresh = sdsempty();
  if (fresh == nullptr) return;
  sdsfree(r->buf);
  r->buf = fresh;
  r->pos = 0;
  r->len = 0;
}

std::string ReplyReader::error_text() const {
  if (!has_error()) return {};
  if (state_->error_override != nullptr) return state_->error_override;
  return state_->reader->errstr;
}

}  // namespace fibredis
