// Fan-out merge rules (redis-py's result callbacks).
#include <catch2/catch.hpp>

#include <fibredis/cluster/reply_merge.hpp>
#include <fibredis/errors.hpp>

using fibredis::MergePolicy;
using fibredis::NodeAddress;
using fibredis::NodeReplies;
using fibredis::Reply;

namespace {
NodeReplies three(Reply a, Reply b, Reply c) {
  NodeReplies r;
  r.emplace_back(NodeAddress{"127.0.0.1", 7000}, std::move(a));
  r.emplace_back(NodeAddress{"127.0.0.1", 7001}, std::move(b));
  r.emplace_back(NodeAddress{"127.0.0.1", 7002}, std::move(c));
  return r;
}
Reply strings(std::initializer_list<const char*> s) {
  std::vector<Reply> v;
  for (const char* x : s) v.push_back(Reply::string(x));
  return Reply::array(std::move(v));
}
Reply ints(std::initializer_list<long long> s) {
  std::vector<Reply> v;
  for (long long x : s) v.push_back(Reply::integer(x));
  return Reply::array(std::move(v));
}
}  // namespace

TEST_CASE("Sum adds integer replies (DBSIZE)", "[merge]") {
  auto r = merge_replies(MergePolicy::Sum, three(Reply::integer(3), Reply::integer(4), Reply::integer(5)));
  CHECK(r == Reply::integer(12));
}

TEST_CASE("Concat joins arrays (KEYS); ConcatUnique drops duplicates (PUBSUB CHANNELS)", "[merge]") {
  auto r = merge_replies(MergePolicy::Concat, three(strings({"a"}), strings({}), strings({"b", "c"})));
  CHECK(r.as_string_vector() == std::vector<std::string>{"a", "b", "c"});
  auto u = merge_replies(MergePolicy::ConcatUnique, three(strings({"x", "y"}), strings({"y"}), strings({"z", "x"})));
  CHECK(u.as_string_vector() == std::vector<std::string>{"x", "y", "z"});
}

TEST_CASE("AllTrue ANDs 0/1 arrays element-wise (SCRIPT EXISTS)", "[merge]") {
  auto r = merge_replies(MergePolicy::AllTrue, three(ints({1, 1, 0}), ints({1, 0, 0}), ints({1, 1, 1})));
  CHECK(r == ints({1, 0, 0}));
  CHECK_THROWS_AS(merge_replies(MergePolicy::AllTrue, three(ints({1}), ints({1, 1}), ints({1}))),
                  fibredis::ProtocolError);
}

TEST_CASE("AllOk and First return one reply; any error reply wins", "[merge]") {
  CHECK(merge_replies(MergePolicy::AllOk, three(Reply::status("OK"), Reply::status("OK"), Reply::status("OK"))) ==
        Reply::status("OK"));
  CHECK(merge_replies(MergePolicy::First, three(Reply::string("sha"), Reply::string("sha"), Reply::string("sha"))) ==
        Reply::string("sha"));
  auto e = merge_replies(MergePolicy::AllOk, three(Reply::status("OK"), Reply::error("ERR no"), Reply::status("OK")));
  CHECK(e.is_error());
  CHECK(e.str() == "ERR no");
}

TEST_CASE("PerNode pairs every reply with its node", "[merge]") {
  auto r = merge_replies(MergePolicy::PerNode, three(Reply::string("a"), Reply::string("b"), Reply::string("c")));
  REQUIRE(r.elements().size() == 3);
  CHECK(r.elements()[1].elements()[0].str() == "127.0.0.1:7001");
  CHECK(r.elements()[1].elements()[1].str() == "b");
}

TEST_CASE("per_node_replies reads a PerNode merge back as the map rc.on() returns", "[merge]") {
  NodeReplies in = three(Reply::integer(4), Reply::string("b"), Reply::status("OK"));
  in.emplace_back(NodeAddress{"::1", 7003}, Reply::integer(9));  // IPv6: the last colon splits
  fibredis::PerNode<Reply> m = fibredis::per_node_replies(merge_replies(MergePolicy::PerNode, std::move(in)));
  REQUIRE(m.size() == 4);
  CHECK(m.at(NodeAddress{"127.0.0.1", 7000}).integer() == 4);
  CHECK(m.at(NodeAddress{"127.0.0.1", 7001}).str() == "b");
  CHECK(m.at(NodeAddress{"127.0.0.1", 7002}).is_status());
  CHECK(m.at(NodeAddress{"::1", 7003}).integer() == 9);
}

TEST_CASE("per_node_replies throws a node's error reply, and refuses any other shape", "[merge]") {
  CHECK_THROWS_AS(fibredis::per_node_replies(merge_replies(MergePolicy::PerNode,
                                                           three(Reply::integer(1), Reply::error("ERR no"), Reply::integer(2)))),
                  fibredis::ResponseError);
  CHECK_THROWS_AS(fibredis::per_node_replies(Reply::integer(3)), fibredis::ProtocolError);
  CHECK_THROWS_AS(fibredis::per_node_replies(Reply::array({Reply::string("127.0.0.1:7000")})), fibredis::ProtocolError);
  CHECK_THROWS_AS(fibredis::per_node_replies(Reply::array({Reply::array({Reply::string("no-port"), Reply::integer(1)})})),
                  fibredis::ProtocolError);
  CHECK(fibredis::per_node_replies(Reply::array({})).empty());
}
