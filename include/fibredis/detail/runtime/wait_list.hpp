// WaitList: an intrusive FIFO of waiters (each embeds a WaitHook), so a waiter that leaves early
// (its deadline passed, it was cancelled) is unlinked in O(1): ten thousand callers timing out
// together cost ten thousand unlinks, not a search each (the O(n^2) of issue 9).
//
// No allocation, no ownership: a waiter lives on its fiber's stack and must unlink (remove(), or
// the hook's destructor) before it goes.
#pragma once

#include <cstddef>

namespace fibredis {

struct WaitListBase;

class WaitHook {
 public:
  WaitHook() = default;
  WaitHook(const WaitHook&) = delete;
  WaitHook& operator=(const WaitHook&) = delete;
  ~WaitHook() { unlink(); }

  bool linked() const noexcept { return list_ != nullptr; }
  /// Leaves whatever list this is in (no-op when in none).
  inline void unlink() noexcept;

 private:
  template <class T>
  friend class WaitList;
  WaitListBase* list_ = nullptr;
  WaitHook* prev_ = nullptr;
  WaitHook* next_ = nullptr;
};

struct WaitListBase {
  WaitHook* head = nullptr;
  WaitHook* tail = nullptr;
  std::size_t size = 0;
};

/// T derives from WaitHook.
template <class T>
class WaitList : private WaitListBase {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  ~WaitList() {
    while (head) head->unlink();
  }

  bool empty() const noexcept { return head == nullptr; }
  std::size_t size() const noexcept { return WaitListBase::size; }
  T* front() const noexcept { return static_cast<T*>(head); }
  T* back() const noexcept { return static_cast<T*>(tail); }

  void push_back(T& item) noexcept {
    WaitHook& h = item;
    h.unlink();
    h.list_ = this;
    h.prev_ = tail;
    h.next_ = nullptr;
    if (tail) {
      tail->next_ = &h;
    } else {
      head = &h;
    }
    tail = &h;
    ++WaitListBase::size;
  }
  T* pop_front() noexcept {
    T* f = front();
    if (f) static_cast<WaitHook&>(*f).unlink();
    return f;
  }
  static void remove(T& item) noexcept { static_cast<WaitHook&>(item).unlink(); }
};

inline void WaitHook::unlink() noexcept {
  if (list_ == nullptr) return;
  if (prev_) {
    prev_->next_ = next_;
  } else {
    list_->head = next_;
  }
  if (next_) {
    next_->prev_ = prev_;
  } else {
    list_->tail = prev_;
  }
  --list_->size;
  list_ = nullptr;
  prev_ = next_ = nullptr;
}

}  // namespace fibredis
