#include "bio/voting.h"

#include <algorithm>

namespace ektp::bio {

void VoteTable::Begin() {
  tag_ = (tag_ + 0x10000) & 0xffff0000;
  if (tag_ == 0) {
    votes_.fill(0);
    tag_ = 0x10000;
  }
}

void VoteTable::Tally(const EdgePair* pairs, size_t n) {
  auto vote = [&](uint32_t index) {
    const uint32_t v = votes_[index];
    votes_[index] = ((v & 0xffff0000) == tag_ ? v : tag_) + 1;
  };
  for (size_t i = 0; i < n; ++i) {
    vote(pairs[i] & 0xffff);
    vote(pairs[i] >> 16);
  }
}

void VoteTable::Supports(const EdgePair* pairs, size_t n, uint16_t* support) const {
  // Every index was tallied in this comparison, so its tag is current.
  for (size_t i = 0; i < n; ++i) {
    support[i] =
        static_cast<uint16_t>(std::min((votes_[pairs[i] & 0xffff] & 0xffff) + (votes_[pairs[i] >> 16] & 0xffff), 0xffffu));
  }
  std::fill_n(support + n, kSupportPad, 0);
}

int VoteTable::Votes(size_t probe_minutia, size_t candidate_minutia) const {
  const uint32_t entry = votes_[probe_minutia * kMaxM + candidate_minutia];
  return (entry & 0xffff0000) == tag_ ? static_cast<int>(entry & 0xffff) : 0;
}

}  // namespace ektp::bio
