#include "fibredis/detail/resp/reader.hpp"

#include <algorithm>
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

  ~State() {
    // Frees a half-built root through free_object, so `root` must still be alive here.
    if (reader != nullptr) redisReaderFree(reader);
  }
};

namespace {

// Upper bound on elements reserved up front from an untrusted "*<n>" header. Larger arrays still
// work: the vector grows as elements arrive.
constexpr int kMaxReserve = 1 << 16;

using State = ReplyReader::State;

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
    static_cast<State*>(task->privdata)->error_override = "Bad bulk string terminator";
    return nullptr;
  }
  try {
    return place(task, make_text(task->type, std::string(data, len)));
  } catch (...) {
    return nullptr;
  }
}

void* create_array(const redisReadTask* task, int n) noexcept {
  if (n < 0) return nullptr;
  try {
    std::vector<Reply> elements;
    elements.reserve(static_cast<std::size_t>(std::min(n, kMaxReserve)));
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

ReplyReader::ReplyReader() : state_(std::make_unique<State>()) {
  state_->reader = redisReaderCreateWithFunctions(&kFunctions);
  if (state_->reader == nullptr) throw std::bad_alloc();
  // Every task (root and children) carries this pointer; the root callbacks use it to find
  // State::root. State lives on the heap, so moving the ReplyReader keeps it valid.
  state_->reader->privdata = state_.get();
  // maxbuf stays at hiredis's default (16 KiB): an emptied buffer larger than that is released,
  // so one huge reply does not pin its memory for the connection's lifetime.
}

ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

void ReplyReader::feed(const char* data, std::size_t n) {
  if (n == 0) return;
  // Fails when already in error (ignored: next() reports it) or when this append runs out of
  // memory, which leaves the reader in error too.
  if (state_->reader->err != 0) return;
  if (redisReaderFeed(state_->reader, data, n) != REDIS_OK) throw std::bad_alloc();
}

std::optional<Reply> ReplyReader::next(std::error_code& ec) {
  void* obj = nullptr;
  if (redisReaderGetReply(state_->reader, &obj) != REDIS_OK) {
    ec = make_error_code(errc::protocol_error);
    return std::nullopt;
  }
  ec.clear();
  if (obj == nullptr) return std::nullopt;
  // obj is &state_->root: hiredis has let go of it, so the tree is ours to move out.
  std::optional<Reply> out(std::in_place, std::move(state_->root));
  state_->root = Reply();
  return out;
}

bool ReplyReader::has_error() const noexcept { return state_->reader->err != 0; }

bool ReplyReader::empty() const noexcept {
  const redisReader* r = state_->reader;
  return r->err == 0 && r->ridx == -1 && r->pos >= r->len;
}

void ReplyReader::release_buffer() noexcept {
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
  if (state_->reader->err == 0) return {};
  if (state_->error_override != nullptr) return state_->error_override;
  return state_->reader->errstr;
}

}  // namespace fibredis
