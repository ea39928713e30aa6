// libFuzzer target: the RESP reader (resp/reader.hpp) fed arbitrary bytes in arbitrary chunks.
//
// Input: 2 control bytes, then the wire bytes. The first control byte picks max_reply_bytes (the
// default, or a small limit so the refusal paths run); the second seeds the chunk sizes. The
// stream is read three ways: fed whole, fed 1 byte at a time, fed in pseudo-random chunks. A reply
// must not depend on how its bytes arrived (hiredis test.c's "split at every byte" rule), so all
// three must give the same replies, in the same order, and end in the same state (error or not;
// with the default limit, the same error text). A reply's size limit is counted in wire bytes,
// so it does not depend on chunking either; only the refusal's wording may (which header was
// seen first), so texts are compared with the default limit only.
#include <fibredis/detail/resp/reader.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Outcome {
  std::vector<fibredis::Reply> replies;
  bool error = false;
  std::string text;
};

// Reads `wire` fed in pieces of the sizes `next_size` gives (each at least 1).
template <class NextSize>
Outcome read_all(const std::uint8_t* wire, std::size_t n, std::size_t limit, NextSize next_size) {
  fibredis::ReplyReader reader(limit);
  Outcome out;
  std::error_code ec;
  std::size_t pos = 0;
  while (pos < n && !out.error) {
    std::size_t take = next_size();
    if (take > n - pos) take = n - pos;
    reader.feed(reinterpret_cast<const char*>(wire + pos), take);
    pos += take;
    while (auto r = reader.next(ec)) out.replies.push_back(std::move(*r));
    if (ec) {
      out.error = true;
      out.text = reader.error_text();
      if (out.text.empty()) std::abort();  // an error always explains itself
    }
    if (reader.has_error() != out.error) std::abort();
  }
  return out;
}

void require_same(const Outcome& a, const Outcome& b, bool compare_text, const char* how) {
  bool same = a.replies.size() == b.replies.size() && a.error == b.error;
  for (std::size_t i = 0; same && i < a.replies.size(); ++i) same = a.replies[i] == b.replies[i];
  if (same && compare_text) same = a.text == b.text;
  if (same) return;
  std::fprintf(stderr, "chunking changed the result (%s): %zu vs %zu replies, error %d vs %d\n",
               how, a.replies.size(), b.replies.size(), a.error, b.error);
  std::fprintf(stderr, "  texts: '%s' vs '%s'\n", a.text.c_str(), b.text.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // 0 → the default limit; otherwise 64..16384 bytes, small enough to be hit by fuzz inputs.
  const std::size_t limit = data[0] == 0 ? fibredis::ReplyReader::kDefaultMaxReplyBytes
                                         : std::size_t{64} * (1 + data[0] % 256);
  std::uint32_t seed = 0x9e3779b9u ^ data[1];
  const std::uint8_t* wire = data + 2;
  const std::size_t n = size - 2;

  const Outcome whole = read_all(wire, n, limit, [n] { return n == 0 ? 1 : n; });
  const Outcome bytewise = read_all(wire, n, limit, [] { return std::size_t{1}; });
  const Outcome chunked = read_all(wire, n, limit, [&seed] {
    seed = seed * 1664525u + 1013904223u;  // an LCG is enough to vary the cuts
    return std::size_t{1} + (seed >> 16) % 97;
  });
  const bool default_limit = data[0] == 0;
  require_same(whole, bytewise, default_limit, "whole vs 1-byte");
  require_same(whole, chunked, default_limit, "whole vs random chunks");
  return 0;
}
