// ScanRange: a lazy input range over the SCAN family (SCAN, HSCAN, SSCAN, ZSCAN).
//
// The range knows only the cursor protocol (start at 0, feed back the cursor each reply returns,
// stop when it returns 0); how one page is fetched is a callable given to it. Several fetchers are
// walked one after another, which is how a cluster scans every primary with the same range type.
// A page is fetched when the previous one is used up: a loop suspends its fiber once per page.
// A key may appear more than once and keys written during the scan may be missed: SCAN's guarantee
// is only that keys present throughout the whole iteration are returned (see the SCAN docs).
//
// @code
//   for (const std::string& key : c.scan_iter({.match = "user:*", .count = 1000}))
//     c.del(key);
// @endcode
// The range holds the client by reference: the client must outlive the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace fibredis {

/// One reply of a SCAN-family command: the cursor to continue from (0 = done) and its items.
template <class T>
struct ScanPage {
  std::uint64_t cursor = 0;
  std::vector<T> items;
};

template <class T>
class ScanRange {
 public:
  /// Fetches the page that starts at `cursor` (suspending the calling fiber).
  using PageFetcher = std::function<ScanPage<T>(std::uint64_t cursor)>;

  explicit ScanRange(PageFetcher fetch) { fetchers_.push_back(std::move(fetch)); }
  /// Scans with each fetcher in turn, each from cursor 0 until it returns 0 (e.g. one per node).
  explicit ScanRange(std::vector<PageFetcher> fetchers) : fetchers_(std::move(fetchers)) {}

  // Iterators point into the range: moving it mid-iteration would leave them dangling.
  ScanRange(const ScanRange&) = delete;
  ScanRange& operator=(const ScanRange&) = delete;
  ScanRange(ScanRange&&) noexcept = default;
  ScanRange& operator=(ScanRange&&) noexcept = default;

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    /// The current item; moving out of it is allowed (the range never reads it again).
    T& operator*() const { return range_->page_[range_->index_]; }
    T* operator->() const { return &**this; }
    iterator& operator++() {
      range_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    friend class ScanRange;
    explicit iterator(ScanRange* r) : range_(r) {}
    bool at_end() const noexcept { return range_ == nullptr || range_->done_; }
    ScanRange* range_ = nullptr;
  };

  /// Fetches pages until the first item (or the end). Call once: this is an input range.
  iterator begin() {
    if (!started_) {
      started_ = true;
      fill();
    }
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  /// Collects what is left into a vector (a whole keyspace: mind its size).
  std::vector<T> to_vector() {
    std::vector<T> all;
    for (auto it = begin(); it != end(); ++it) all.push_back(std::move(*it));
    return all;
  }

 private:
  void advance() {
    if (++index_ < page_.size()) return;
    fill();
  }

  // Fetches until a non-empty page or until every fetcher has returned cursor 0. SCAN may return
  // empty pages with a non-zero cursor (MATCH filters after the fact), so an empty page is not
  // the end.
  void fill() {
    page_.clear();
    index_ = 0;
    while (page_.empty()) {
      if (fetcher_ == fetchers_.size()) {
        done_ = true;
        return;
      }
      ScanPage<T> p = fetchers_[fetcher_](cursor_);
      page_ = std::move(p.items);
      cursor_ = p.cursor;
      if (cursor_ == 0) ++fetcher_;  // this source is exhausted; the next starts at 0
    }
  }

  std::vector<PageFetcher> fetchers_;
  std::size_t fetcher_ = 0;
  std::uint64_t cursor_ = 0;
  std::vector<T> page_;
  std::size_t index_ = 0;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace fibredis
