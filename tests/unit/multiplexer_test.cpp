// The shared connection's core without a socket: what gets written, in which order, and where each
// reply goes, including short writes, cancellation and the in-flight bound.
#include <fibredis/detail/conn/multiplexer.hpp>

#include <fibredis/errors.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using fibredis::Command;
using fibredis::Multiplexer;
using fibredis::Reply;

namespace {

// The reply slots must exist before the Request base that points at them: a base listed first.
struct ReplySlots {
  explicit ReplySlots(std::size_t n) : replies(n) {}
  std::vector<Reply> replies;
};

struct TestRequest : ReplySlots, Multiplexer::Request {
  explicit TestRequest(std::size_t n) : ReplySlots(n), Multiplexer::Request(replies.data(), n) {}
  int completions = 0;

 protected:
  void on_done() noexcept override { ++completions; }
};

std::string encoded(const std::vector<Command>& cmds) {
  std::string s;
  for (const Command& c : cmds) c.encode_to(s);
  return s;
}

// Writes at most `limit` bytes of what the multiplexer hands out, as a short write would.
std::string write_some(Multiplexer& mux, std::size_t limit = SIZE_MAX) {
  std::vector<iovec> iov;
  const std::size_t total = mux.prepare_write(iov);
  std::string out;
  for (const iovec& v : iov) out.append(static_cast<const char*>(v.iov_base), v.iov_len);
  REQUIRE(out.size() == total);
  if (out.size() > limit) out.resize(limit);
  mux.commit_written(out.size());
  return out;
}

std::string write_all(Multiplexer& mux) {
  std::string out;
  for (int i = 0; i < 100000; ++i) {
    std::string part = write_some(mux);
    if (part.empty()) break;
    out += part;
  }
  return out;
}

Command get(const std::string& k) { return Command{"GET", k}; }

}  // namespace

TEST_CASE("multiplexer: one request is written, its reply completes it", "[multiplexer]") {
  Multiplexer mux(16);
  std::vector<Command> cmds{Command{"SET", "k", "v"}};
  TestRequest req(1);
  mux.enqueue(cmds.data(), 1, req);
  CHECK(write_some(mux).empty());  // not flushed yet: nothing to write
  mux.request_flush();
  CHECK(mux.has_pending_write());
  CHECK(write_some(mux) == encoded(cmds));
  CHECK(req.sent());
  CHECK(mux.in_flight() == 1);
  CHECK_FALSE(req.done());
  REQUIRE_FALSE(mux.on_reply(Reply::status("OK")));
  CHECK(req.done());
  CHECK(req.completions == 1);
  CHECK(req.replies[0].str() == "OK");
  CHECK(mux.idle());
  CHECK(mux.in_flight() == 0);
}

TEST_CASE("multiplexer: many callers' requests leave in one contiguous write", "[multiplexer]") {
  Multiplexer mux(4096);
  std::vector<std::unique_ptr<TestRequest>> reqs;
  std::vector<Command> all;
  for (int i = 0; i < 500; ++i) {
    Command c = get("key:" + std::to_string(i));
    all.push_back(c);
    reqs.push_back(std::make_unique<TestRequest>(1));
    mux.enqueue(&c, 1, *reqs.back());
  }
  mux.request_flush();
  std::vector<iovec> iov;
  const std::size_t total = mux.prepare_write(iov);
  CHECK(iov.size() == 1);  // one buffer: one send carries all 500
  CHECK(total == encoded(all).size());
  mux.commit_written(total);
  for (int i = 0; i < 500; ++i) REQUIRE_FALSE(mux.on_reply(Reply::integer(i)));
  for (int i = 0; i < 500; ++i) {
    CHECK(reqs[i]->done());
    CHECK(reqs[i]->replies[0].integer() == i);
  }
}

TEST_CASE("multiplexer: a short write at every byte keeps the stream intact", "[multiplexer]") {
  std::vector<std::vector<Command>> batches{
      {Command{"SET", "a", "1"}},
      {Command{"MULTI"}, Command{"INCR", "b"}, Command{"EXEC"}},
      {get("c")},
  };
  std::string expected;
  for (auto& b : batches) expected += encoded(b);
  for (std::size_t chunk = 1; chunk <= 7; ++chunk) {
    Multiplexer mux(64);
    std::vector<std::unique_ptr<TestRequest>> reqs;
    for (auto& b : batches) {
      reqs.push_back(std::make_unique<TestRequest>(b.size()));
      mux.enqueue(b.data(), b.size(), *reqs.back());
    }
    mux.request_flush();
    std::string written;
    for (int i = 0; i < 10000 && mux.has_pending_write(); ++i) written += write_some(mux, chunk);
    CHECK(written == expected);
    CHECK(mux.in_flight() == 5);
    for (int i = 0; i < 5; ++i) REQUIRE_FALSE(mux.on_reply(Reply::integer(i)));
    CHECK(reqs[0]->replies[0].integer() == 0);
    CHECK(reqs[1]->replies[2].integer() == 3);
    CHECK(reqs[2]->replies[0].integer() == 4);
    for (auto& r : reqs) CHECK(r->completions == 1);
  }
}

TEST_CASE("multiplexer: a request cancelled before its write is never written", "[multiplexer]") {
  Multiplexer mux(64);
  TestRequest a(1), b(1), c(1);
  Command ca = get("a"), cb = get("b"), cc = get("c");
  mux.enqueue(&ca, 1, a);
  mux.enqueue(&cb, 1, b);
  mux.enqueue(&cc, 1, c);
  SECTION("in the middle: its bytes are skipped") {
    CHECK(mux.cancel(b));
    mux.request_flush();
    CHECK(write_all(mux) == encoded({ca, cc}));
    REQUIRE_FALSE(mux.on_reply(Reply::string("A")));
    REQUIRE_FALSE(mux.on_reply(Reply::string("C")));
    CHECK(a.replies[0].str() == "A");
    CHECK(c.replies[0].str() == "C");
    CHECK_FALSE(b.done());
    CHECK(b.completions == 0);
    CHECK(mux.idle());
  }
  SECTION("at the end: the buffer shrinks") {
    CHECK(mux.cancel(c));
    CHECK(mux.requests() == 2);
    mux.request_flush();
    CHECK(write_all(mux) == encoded({ca, cb}));
  }
  SECTION("at the head, after an earlier write") {
    mux.request_flush();
    CHECK(write_some(mux, encoded({ca}).size()) == encoded({ca}));
    CHECK(mux.cancel(b));
    CHECK(write_all(mux) == encoded({cc}));
    REQUIRE_FALSE(mux.on_reply(Reply::string("A")));
    REQUIRE_FALSE(mux.on_reply(Reply::string("C")));
    CHECK(c.replies[0].str() == "C");
  }
  SECTION("all of them, while unflushed: nothing is ever written") {
    CHECK(mux.cancel(a));
    CHECK(mux.cancel(b));
    CHECK(mux.cancel(c));
    mux.request_flush();
    CHECK(write_all(mux).empty());
    CHECK(mux.idle());
    CHECK_FALSE(mux.has_pending_write());
  }
}

TEST_CASE("multiplexer: a request cancelled after its write is abandoned; its replies are dropped",
          "[multiplexer]") {
  Multiplexer mux(64);
  auto a = std::make_unique<TestRequest>(2);
  TestRequest b(1);
  std::vector<Command> ca{get("a1"), get("a2")};
  Command cb = get("b");
  mux.enqueue(ca.data(), 2, *a);
  mux.enqueue(&cb, 1, b);
  mux.request_flush();
  SECTION("fully written") {
    write_all(mux);
    CHECK_FALSE(mux.cancel(*a));
    a.reset();  // the caller is gone: the multiplexer must not touch it
    REQUIRE_FALSE(mux.on_reply(Reply::string("x")));
    REQUIRE_FALSE(mux.on_reply(Reply::string("y")));
    REQUIRE_FALSE(mux.on_reply(Reply::string("B")));
    CHECK(mux.dropped_replies() == 2);
    CHECK(b.replies[0].str() == "B");
    CHECK(mux.idle());
  }
  SECTION("partly written: the rest still goes out, so the stream stays whole") {
    const std::string first = write_some(mux, 5);
    CHECK(first.size() == 5);
    CHECK_FALSE(mux.cancel(*a));
    a.reset();
    CHECK(first + write_all(mux) == encoded({ca[0], ca[1], cb}));
    for (const char* v : {"x", "y", "B"}) REQUIRE_FALSE(mux.on_reply(Reply::string(v)));
    CHECK(b.replies[0].str() == "B");
  }
}

TEST_CASE("multiplexer: mixed batch sizes get their own replies in order", "[multiplexer]") {
  Multiplexer mux(100000);
  const std::size_t sizes[] = {1, 3, 100, 1, 7};
  std::vector<std::unique_ptr<TestRequest>> reqs;
  for (std::size_t n : sizes) {
    std::vector<Command> cmds;
    for (std::size_t i = 0; i < n; ++i) cmds.push_back(get("k"));
    reqs.push_back(std::make_unique<TestRequest>(n));
    mux.enqueue(cmds.data(), n, *reqs.back());
  }
  mux.request_flush();
  write_all(mux);
  long long next = 0;
  for (std::size_t n : sizes)
    for (std::size_t i = 0; i < n; ++i) REQUIRE_FALSE(mux.on_reply(Reply::integer(next++)));
  next = 0;
  for (auto& r : reqs) {
    REQUIRE(r->done());
    for (const Reply& rep : r->replies) CHECK(rep.integer() == next++);
  }
}

TEST_CASE("multiplexer: 10,000 requests pass the in-flight bound as replies free room", "[multiplexer]") {
  Multiplexer mux(4096);
  std::vector<std::unique_ptr<TestRequest>> reqs;
  Command c = Command{"INCR", "n"};
  for (int i = 0; i < 10000; ++i) {
    reqs.push_back(std::make_unique<TestRequest>(1));
    mux.enqueue(&c, 1, *reqs.back());
  }
  mux.request_flush();
  const std::size_t one = encoded({c}).size();
  long long answered = 0;
  int writes = 0;
  for (int round = 0; round < 100 && answered < 10000; ++round) {
    const std::string w = write_some(mux);
    if (!w.empty()) ++writes;
    CHECK(w.size() % one == 0);
    CHECK(mux.in_flight() <= 4096);
    const std::size_t n = mux.in_flight();
    for (std::size_t i = 0; i < n; ++i) REQUIRE_FALSE(mux.on_reply(Reply::integer(++answered)));
  }
  CHECK(answered == 10000);
  CHECK(writes == 3);  // 4096 + 4096 + 1808
  for (int i = 0; i < 10000; ++i) CHECK(reqs[i]->replies[0].integer() == i + 1);
}

TEST_CASE("multiplexer: a request larger than the bound still goes, alone", "[multiplexer]") {
  Multiplexer mux(2);
  std::vector<Command> big(5, get("k"));
  TestRequest a(5), b(1);
  mux.enqueue(big.data(), 5, a);
  mux.enqueue(big.data(), 1, b);
  mux.request_flush();
  CHECK(write_some(mux) == encoded(big));
  CHECK(write_some(mux).empty());  // b waits for room
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE(mux.on_reply(Reply::integer(i)));
  CHECK(write_some(mux) == encoded({big[0]}));
}

TEST_CASE("multiplexer: a reply with no request is a protocol error", "[multiplexer]") {
  Multiplexer mux(8);
  CHECK(mux.on_reply(Reply::status("OK")) == fibredis::errc::protocol_error);
  TestRequest a(1);
  Command c = get("a");
  mux.enqueue(&c, 1, a);
  // Queued but not written: the server cannot be answering it.
  CHECK(mux.on_reply(Reply::status("OK")) == fibredis::errc::protocol_error);
  mux.request_flush();
  write_all(mux);
  CHECK_FALSE(mux.on_reply(Reply::status("OK")));
  CHECK(mux.on_reply(Reply::status("OK")) == fibredis::errc::protocol_error);
}

TEST_CASE("multiplexer: fail_all fails live requests, queued or written", "[multiplexer]") {
  Multiplexer mux(8);
  TestRequest a(1), b(1), c(1);
  Command cmd = get("x");
  mux.enqueue(&cmd, 1, a);
  mux.request_flush();
  write_all(mux);
  mux.enqueue(&cmd, 1, b);
  mux.enqueue(&cmd, 1, c);
  CHECK(mux.cancel(c));
  mux.fail_all(make_error_code(fibredis::errc::connection_closed));
  CHECK(a.done());
  CHECK(a.error() == fibredis::errc::connection_closed);
  CHECK(a.sent());
  CHECK(b.done());
  CHECK_FALSE(b.sent());  // never written: safe to retry anywhere
  CHECK(c.completions == 0);
  CHECK(mux.idle());
  CHECK(mux.in_flight() == 0);
  // Usable again (a new connection's stream).
  TestRequest d(1);
  mux.enqueue(&cmd, 1, d);
  mux.request_flush();
  CHECK(write_all(mux) == encoded({cmd}));
}
