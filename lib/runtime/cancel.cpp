#include <fibredis/runtime/cancel.hpp>

#include <boost/fiber/fss.hpp>

#include <algorithm>

namespace fibredis {

namespace {
// The fiber's innermost scope. A fiber_specific_ptr with a no-op cleanup: the scopes live on the
// fiber's own stack and end before it does.
void no_cleanup(CancelScope*) noexcept {}
boost::fibers::fiber_specific_ptr<CancelScope>& current_scope() {
  static thread_local boost::fibers::fiber_specific_ptr<CancelScope> ptr(&no_cleanup);
  return ptr;
}
}  // namespace

CancelRegistration::~CancelRegistration() { detach(); }

bool CancelRegistration::attach(CancelSource* source) noexcept {
  detach();
  if (source == nullptr) return true;
  if (source->cancelled_) return false;
  source_ = source;
  prev_ = nullptr;
  next_ = source->head_;
  if (next_) next_->prev_ = this;
  source->head_ = this;
  ++source->count_;
  return true;
}

void CancelRegistration::detach() noexcept {
  if (source_ == nullptr) return;
  if (prev_) {
    prev_->next_ = next_;
  } else {
    source_->head_ = next_;
  }
  if (next_) next_->prev_ = prev_;
  --source_->count_;
  source_ = nullptr;
  prev_ = next_ = nullptr;
}

bool CancelToken::cancelled() const noexcept { return source_ != nullptr && source_->cancelled(); }

CancelSource::~CancelSource() {
  while (head_) head_->detach();
}

void CancelSource::cancel() noexcept {
  if (cancelled_) return;
  cancelled_ = true;
  // Each registration leaves the list before its callback runs, so a callback may detach or
  // re-attach others without breaking the walk.
  while (CancelRegistration* r = head_) {
    r->detach();
    r->on_cancel();
  }
}

CancelScope::CancelScope(CancelToken token, Deadline deadline)
    : outer_(current_scope().get()), token_(token), deadline_(deadline) {
  if (outer_) {
    if (!token_) token_ = outer_->token_;
    deadline_ = std::min(deadline_, outer_->deadline_);
  }
  current_scope().reset(this);
}

CancelScope::~CancelScope() { current_scope().reset(outer_); }

CallCancel CallCancel::current() noexcept {
  CancelScope* s = current_scope().get();
  if (s == nullptr) return {};
  return {s->token_.source(), s->deadline_};
}

}  // namespace fibredis
