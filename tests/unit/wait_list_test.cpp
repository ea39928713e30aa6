// WaitList (intrusive FIFO with O(1) removal) and CancelSource/CancelRegistration: pure pieces of
// the wake-up and cancellation paths, no server.
#include <catch2/catch.hpp>

#include <fibredis/runtime/cancel.hpp>
#include <fibredis/detail/runtime/wait_list.hpp>

#include <memory>
#include <vector>

namespace {
struct Item final : fibredis::WaitHook {
  explicit Item(int v) : value(v) {}
  int value;
};

struct Counter final : fibredis::CancelRegistration {
  int fired = 0;
  void on_cancel() noexcept override { ++fired; }
};

std::vector<int> drain(fibredis::WaitList<Item>& l) {
  std::vector<int> out;
  while (Item* i = l.pop_front()) out.push_back(i->value);
  return out;
}
}  // namespace

TEST_CASE("WaitList: FIFO order, removal from anywhere, unlink on destruction", "[unit][wait_list]") {
  fibredis::WaitList<Item> l;
  Item a(1), b(2), c(3), d(4);
  l.push_back(a);
  l.push_back(b);
  l.push_back(c);
  l.push_back(d);
  CHECK(l.size() == 4);
  fibredis::WaitList<Item>::remove(b);  // middle
  d.unlink();                           // back
  CHECK_FALSE(b.linked());
  CHECK(l.size() == 2);
  CHECK(l.front() == &a);
  CHECK(l.back() == &c);
  {
    Item e(5);
    l.push_back(e);
    CHECK(l.size() == 3);
  }  // e leaves on destruction
  CHECK(l.size() == 2);
  CHECK(drain(l) == std::vector<int>{1, 3});
  CHECK(l.empty());
  // Re-pushing an item moves it to the back (it is never in two places).
  l.push_back(a);
  l.push_back(c);
  l.push_back(a);
  CHECK(drain(l) == std::vector<int>{3, 1});
}

TEST_CASE("WaitList: 10,000 waiters leaving in any order cost O(1) each", "[unit][wait_list]") {
  fibredis::WaitList<Item> l;
  std::vector<std::unique_ptr<Item>> items;
  for (int i = 0; i < 10000; ++i) items.push_back(std::make_unique<Item>(i));
  for (auto& i : items) l.push_back(*i);
  for (std::size_t i = 0; i < items.size(); i += 2) items[i]->unlink();  // every even one times out
  CHECK(l.size() == 5000);
  CHECK(l.front()->value == 1);
  CHECK(l.back()->value == 9999);
}

TEST_CASE("CancelSource: cancel fires each registration once, sticky, detach is O(1)", "[unit][cancel]") {
  fibredis::CancelSource src;
  Counter a, b, c;
  CHECK(a.attach(&src));
  CHECK(b.attach(&src));
  CHECK(c.attach(&src));
  CHECK(src.registered() == 3);
  b.detach();
  CHECK(src.registered() == 2);
  CHECK_FALSE(src.token().cancelled());
  src.cancel();
  CHECK(src.token().cancelled());
  CHECK(a.fired == 1);
  CHECK(b.fired == 0);
  CHECK(c.fired == 1);
  CHECK(src.registered() == 0);
  src.cancel();  // again: nothing more
  CHECK(a.fired == 1);
  Counter late;
  CHECK_FALSE(late.attach(&src));  // already cancelled
  CHECK(late.fired == 0);
  CHECK(late.attach(nullptr));     // no source: nothing to wait for
}

TEST_CASE("CancelScope: nests, the inner deadline is the earlier one", "[unit][cancel]") {
  using namespace std::chrono_literals;
  CHECK_FALSE(fibredis::CallCancel::current().active());
  fibredis::CancelSource src;
  const auto d1 = fibredis::deadline_after(10s);
  const auto d2 = fibredis::deadline_after(1s);
  {
    fibredis::CancelScope outer(src.token(), d1);
    CHECK(fibredis::CallCancel::current().source == &src);
    CHECK(fibredis::CallCancel::current().deadline == d1);
    {
      fibredis::CancelScope inner(d2);
      CHECK(fibredis::CallCancel::current().source == &src);  // inherited
      CHECK(fibredis::CallCancel::current().deadline == d2);
    }
    {
      fibredis::CancelScope inner(fibredis::deadline_after(100s));
      CHECK(fibredis::CallCancel::current().deadline == d1);  // never later than the outer one
    }
    CHECK(fibredis::CallCancel::current().deadline == d1);
  }
  CHECK_FALSE(fibredis::CallCancel::current().active());
}
