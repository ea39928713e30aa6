#include <catch2/catch.hpp>

#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/resp/reply.hpp>

#include <string>
#include <vector>

using fibredis::Message;
using fibredis::MessageKind;
using fibredis::parse_push;
using fibredis::Reply;

namespace {
Reply arr(std::vector<Reply> e) { return Reply::array(std::move(e)); }
Reply s(const char* v) { return Reply::string(v); }
}  // namespace

TEST_CASE("parse_push: data messages", "[pubsub]") {
  auto m = parse_push(arr({s("message"), s("news"), s("hello")}));
  REQUIRE(m);
  CHECK(m->kind == MessageKind::Message);
  CHECK(m->channel == "news");
  CHECK(m->data == "hello");
  CHECK(m->is_data());

  auto p = parse_push(arr({s("pmessage"), s("n*"), s("news"), s("hi")}));
  REQUIRE(p);
  CHECK(p->kind == MessageKind::PMessage);
  CHECK(p->pattern == "n*");
  CHECK(p->channel == "news");
  CHECK(p->data == "hi");

  auto sm = parse_push(arr({s("smessage"), s("{a}x"), s("")}));
  REQUIRE(sm);
  CHECK(sm->kind == MessageKind::SMessage);
  CHECK(sm->data.empty());
}

TEST_CASE("parse_push: confirmations, pong, errors", "[pubsub]") {
  auto c = parse_push(arr({s("psubscribe"), s("a.*"), Reply::integer(3)}));
  REQUIRE(c);
  CHECK(c->kind == MessageKind::PSubscribe);
  CHECK(c->channel == "a.*");
  CHECK(c->count == 3);
  CHECK_FALSE(c->is_data());

  // UNSUBSCRIBE with nothing subscribed: a nil name, count 0.
  auto u = parse_push(arr({s("unsubscribe"), Reply::nil(), Reply::integer(0)}));
  REQUIRE(u);
  CHECK(u->kind == MessageKind::Unsubscribe);
  CHECK(u->channel.empty());
  CHECK(u->count == 0);

  auto su = parse_push(arr({s("sunsubscribe"), s("ch"), Reply::integer(0)}));
  REQUIRE(su);
  CHECK(su->kind == MessageKind::SUnsubscribe);
  CHECK_FALSE(su->server_initiated);  // the link decides that, not the parser

  auto pong = parse_push(arr({s("pong"), s("marker")}));
  REQUIRE(pong);
  CHECK(pong->kind == MessageKind::Pong);
  CHECK(pong->data == "marker");

  auto e = parse_push(Reply::error("MOVED 12 127.0.0.1:7001"));
  REQUIRE(e);
  CHECK(e->kind == MessageKind::Error);
  CHECK(e->data == "MOVED 12 127.0.0.1:7001");
}

TEST_CASE("parse_push: shapes that are not pub/sub", "[pubsub]") {
  CHECK_FALSE(parse_push(Reply::integer(1)));
  CHECK_FALSE(parse_push(arr({})));
  CHECK_FALSE(parse_push(arr({s("message"), s("only-channel")})));
  CHECK_FALSE(parse_push(arr({s("pmessage"), s("p"), s("c")})));
  CHECK_FALSE(parse_push(arr({s("subscribe"), s("c"), s("not-a-count")})));
  CHECK_FALSE(parse_push(arr({s("gap"), s("x"), s("y")})));  // our own kinds never come from a server
  CHECK_FALSE(parse_push(arr({s("whatever"), s("x"), s("y")})));
  CHECK_FALSE(parse_push(arr({Reply::integer(1), s("x"), s("y")})));
}

TEST_CASE("to_string(MessageKind) spells the server's names", "[pubsub]") {
  CHECK(fibredis::to_string(MessageKind::SSubscribe) == "ssubscribe");
  CHECK(fibredis::to_string(MessageKind::PMessage) == "pmessage");
  CHECK(fibredis::to_string(MessageKind::Gap) == "gap");
}
