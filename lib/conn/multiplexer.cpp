#include <fibredis/detail/conn/multiplexer.hpp>

#include <fibredis/errors.hpp>

#include <algorithm>

namespace fibredis {

void Multiplexer::enqueue(const Command* cmds, std::size_t n, Request& req) {
  const std::size_t before = buf_.size();
  for (std::size_t i = 0; i < n; ++i) cmds[i].encode_to(buf_);
  req.seq_ = next_seq_++;
  req.received_ = 0;
  req.done_ = false;
  req.sent_ = false;
  req.error_ = {};
  entries_.push_back(Entry{&req, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(buf_.size() - before)});
  unanswered_ += n;
}

void Multiplexer::skip_leading_holes() noexcept {
  // Cancelled requests at the head of the unwritten part: drop their bytes now, nothing points
  // into the buffer between two writes.
  std::size_t drop = 0;
  while (first_unwritten_ < entries_.size() && partial_ == 0 && entries_[first_unwritten_].cancelled) {
    drop += entries_[first_unwritten_].len;
    ++first_unwritten_;
  }
  if (drop) buf_.erase(0, drop);
  pop_answered_front();
}

void Multiplexer::pop_answered_front() noexcept {
  // Written (or skipped) entries with nothing left to receive leave the queue.
  while (first_unwritten_ > 0 && entries_.front().replies == 0) {
    entries_.pop_front();
    ++base_seq_;
    --first_unwritten_;
  }
}

std::size_t Multiplexer::prepare_write(std::vector<iovec>& iov) {
  iov.clear();
  skip_leading_holes();
  std::size_t total = 0;
  std::size_t planned_replies = 0;
  std::size_t pos = 0;  // offset in buf_ of entries_[j]
  std::size_t j = first_unwritten_;
  for (; j < entries_.size() && seq_of(j) < flush_end_seq_; ++j) {
    const Entry& e = entries_[j];
    if (e.cancelled) {
      pos += e.len;
      continue;
    }
    const bool partly_written = j == first_unwritten_ && (partial_ > 0 || e.sent);
    // The bound: a request that would pass it waits for replies, unless nothing at all is in
    // flight (a request larger than the bound still goes, alone).
    if (!partly_written && in_flight_ + planned_replies > 0 &&
        in_flight_ + planned_replies + e.replies > max_in_flight_)
      break;
    const std::size_t from = pos + (j == first_unwritten_ ? partial_ : 0);
    const std::size_t to = pos + e.len;
    if (!iov.empty() && static_cast<char*>(iov.back().iov_base) + iov.back().iov_len == buf_.data() + from) {
      iov.back().iov_len += to - from;  // adjacent in the buffer: one iovec
    } else {
      if (iov.size() == kMaxIov) break;
      iov.push_back(iovec{buf_.data() + from, to - from});
    }
    total += to - from;
    if (!partly_written) planned_replies += e.replies;
    pos = to;
  }
  planned_end_ = j;
  return total;
}

void Multiplexer::commit_written(std::size_t bytes) noexcept {
  std::size_t drop = 0;
  std::size_t j = first_unwritten_;
  while (j < planned_end_) {
    Entry& e = entries_[j];
    if (e.cancelled) {  // skipped, not written: passing it is safe, its bytes never go out
      drop += e.len;
      ++j;
      continue;
    }
    if (bytes == 0) break;
    const std::size_t left = e.len - partial_;
    const std::size_t take = std::min(left, bytes);
    bytes -= take;
    if (!e.sent) {
      e.sent = true;
      in_flight_ += e.replies;
      if (e.req) e.req->sent_ = true;
    }
    if (take < left) {
      partial_ += take;
      break;
    }
    drop += e.len;
    partial_ = 0;
    ++j;
  }
  first_unwritten_ = j;
  if (drop) buf_.erase(0, drop);
  planned_end_ = first_unwritten_;
  pop_answered_front();
}

std::error_code Multiplexer::on_reply(Reply&& reply) {
  pop_answered_front();
  // A reply nobody asked for (or more replies than commands): the stream is out of step.
  if (entries_.empty() || !entries_.front().sent || entries_.front().replies == 0)
    return make_error_code(errc::protocol_error);
  Entry& e = entries_.front();
  --e.replies;
  --in_flight_;
  --unanswered_;
  Request* req = e.req;
  if (req) {
    req->out_[req->received_++] = std::move(reply);
  } else {
    ++dropped_;
  }
  if (e.replies == 0) {
    // All replies in means all its bytes were written: it is not the partly written entry.
    if (first_unwritten_ > 0) {
      entries_.pop_front();
      ++base_seq_;
      --first_unwritten_;
    }
    if (req) {
      req->done_ = true;
      req->on_done();
    }
  }
  return {};
}

bool Multiplexer::cancel(Request& req) noexcept {
  if (req.done_ || req.seq_ < base_seq_ || req.seq_ >= next_seq_) return false;
  const std::size_t index = static_cast<std::size_t>(req.seq_ - base_seq_);
  Entry& e = entries_[index];
  if (e.req != &req) return false;
  e.req = nullptr;
  if (e.sent) return false;  // abandoned: its replies are read and dropped
  // Not a byte written: it never will be.
  e.cancelled = true;
  unanswered_ -= e.replies;
  e.replies = 0;
  if (index + 1 == entries_.size() && index >= first_unwritten_) {
    buf_.resize(buf_.size() - e.len);
    entries_.pop_back();
    --next_seq_;
    if (flush_end_seq_ > next_seq_) flush_end_seq_ = next_seq_;
    if (planned_end_ > entries_.size()) planned_end_ = entries_.size();
  }
  return true;
}

void Multiplexer::fail_all(std::error_code ec) noexcept {
  std::deque<Entry> entries;
  entries.swap(entries_);
  base_seq_ = next_seq_;
  flush_end_seq_ = next_seq_;
  first_unwritten_ = 0;
  partial_ = 0;
  planned_end_ = 0;
  buf_.clear();
  in_flight_ = 0;
  unanswered_ = 0;
  for (Entry& e : entries) {
    if (!e.req) continue;
    e.req->error_ = ec;
    e.req->done_ = true;
    e.req->on_done();
  }
}

bool Multiplexer::has_pending_write() const noexcept {
  for (std::size_t j = first_unwritten_; j < entries_.size() && seq_of(j) < flush_end_seq_; ++j) {
    if (entries_[j].cancelled) continue;
    const bool partly_written = j == first_unwritten_ && (partial_ > 0 || entries_[j].sent);
    return partly_written || in_flight_ == 0 || in_flight_ + entries_[j].replies <= max_in_flight_;
  }
  return false;
}

}  // namespace fibredis
