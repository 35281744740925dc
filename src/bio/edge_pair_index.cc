#include "bio/edge_pair_index.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "bio/features_view.h"
#include "bio/matcher_params.h"
#include "bio/neighbour_edges.h"
#include "bio/signature_codes.h"

namespace ektp::bio {
namespace {

using namespace signature_codes;
constexpr int kCodes = FingerFeatures::kSignatureBits;
constexpr uint32_t kBuckets = 1u << 16;
static_assert(uint64_t{kCodes} * kCodes == uint64_t{1} << kEdgePairCodeBits);

inline uint32_t PairCode(int a, int b) {
  return static_cast<uint32_t>(std::min(a, b)) * kCodes + static_cast<uint32_t>(std::max(a, b));
}

// Calls visit(codes of edge a, codes of edge b) for every two edges from one
// minutia to two of its `neighbours` nearest; `codes_of` gives an edge's
// codes (one on the gallery side, its dilation on the probe side).
template <typename CodesOf, typename Visit>
void ForEachEdgePair(const FingerFeatures& f, size_t neighbours, CodesOf codes_of, Visit visit) {
  const FeaturesView v = FeaturesView::Of(f);
  const std::vector<NeighbourEdge> edges = NeighbourEdges(v.x, v.y, v.angle, v.size, neighbours);
  std::vector<std::vector<int>> codes(edges.size());
  for (size_t e = 0; e < edges.size(); ++e) codes_of(edges[e], codes[e]);
  for (size_t a = 0; a < edges.size(); ++a) {
    for (size_t b = a + 1; b < edges.size() && edges[b].from == edges[a].from; ++b) visit(codes[a], codes[b]);
  }
}

void SortUnique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  v.shrink_to_fit();
}

}  // namespace

std::vector<uint32_t> EdgePairCodes(const FingerFeatures& f, const FingerFeatures::LengthCells& cells) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  std::vector<uint32_t> out;
  ForEachEdgePair(
      f, params::kPairNeighbours,
      [&len](const NeighbourEdge& e, std::vector<int>& codes) {
        codes.push_back(Code(len[e.length], e.alpha / params::kSigAlphaCell, kBeta.beta[e.beta]));
      },
      [&out](const std::vector<int>& a, const std::vector<int>& b) { out.push_back(PairCode(a[0], b[0])); });
  SortUnique(out);
  return out;
}

EdgePairProbe EdgePairProbe::Of(const FingerFeatures& f, const FingerFeatures::LengthCells& cells, bool with_set) {
  const std::array<uint8_t, 256> len = LengthTable(cells);
  EdgePairProbe p;
  // Set first, then read in order: the dilated pairs repeat many times, and
  // a set is faster than sorting them all.
  p.set_.assign(size_t{1} << (kEdgePairCodeBits - 6), 0);
  ForEachEdgePair(
      f, params::kPairProbeNeighbours,
      [&len](const NeighbourEdge& e, std::vector<int>& codes) {
        ForEachDilatedCode<kPairEdgeDilation>(len, e.length, e.alpha, e.beta, [&codes](int c) { codes.push_back(c); });
      },
      [&p](const std::vector<int>& a, const std::vector<int>& b) {
        for (int x : a) {
          for (int y : b) {
            const uint32_t c = PairCode(x, y);
            p.set_[c >> 6] |= uint64_t{1} << (c & 63);
          }
        }
      });
  for (size_t w = 0; w < p.set_.size(); ++w) {
    for (uint64_t bits = p.set_[w]; bits != 0; bits &= bits - 1) {
      p.codes_.push_back(static_cast<uint32_t>(w << 6 | static_cast<size_t>(std::countr_zero(bits))));
    }
  }
  p.codes_.shrink_to_fit();
  if (!with_set) std::vector<uint64_t>().swap(p.set_);
  return p;
}

float EdgePairProbe::density() const {
  return static_cast<float>(static_cast<double>(codes_.size()) / static_cast<double>(uint64_t{1} << kEdgePairCodeBits));
}

float EdgePairZ(size_t hits, size_t gallery_codes, float density) {
  const float expected = static_cast<float>(gallery_codes) * density;
  return (static_cast<float>(hits) - expected) / std::sqrt(expected * (1 - density) + 1);
}

void EdgePairIndex::Add(uint32_t finger, std::span<const uint32_t> codes) {
  if (buckets_.empty()) buckets_.resize(kBuckets);
  for (uint32_t c : codes) {
    std::vector<uint32_t>& bucket = buckets_[c >> 8];
    // Grown by a quarter, not doubled: the index is most of a large
    // gallery's memory, and a bucket grows over its whole life.
    if (bucket.size() == bucket.capacity()) bucket.reserve(bucket.size() + bucket.size() / 4 + 4);
    bucket.push_back(finger << 8 | (c & 0xff));
  }
}

void EdgePairIndex::CountHits(const EdgePairProbe& probe, std::span<uint16_t> hits) const {
  if (buckets_.empty()) return;
  const std::span<const uint32_t> codes = probe.codes();
  for (size_t i = 0; i < codes.size();) {
    const uint32_t bucket = codes[i] >> 8;
    while (i < codes.size() && codes[i] >> 8 == bucket) ++i;
    const uint64_t* mask = probe.BucketMask(bucket);
    for (uint32_t entry : buckets_[bucket]) {
      const uint32_t low = entry & 0xff;
      hits[entry >> 8] += static_cast<uint16_t>((mask[low >> 6] >> (low & 63)) & 1);
    }
  }
}

size_t EdgePairIndex::Bytes() const {
  size_t bytes = buckets_.capacity() * sizeof(buckets_[0]);
  for (const auto& b : buckets_) bytes += b.capacity() * sizeof(uint32_t);
  return bytes;
}

EdgePairCohort::EdgePairCohort() : bucket_end_(kBuckets, 0) {}

void EdgePairCohort::Add(const EdgePairProbe& print) {
  const uint16_t index = static_cast<uint16_t>(density_.size());
  const std::span<const uint32_t> codes = print.codes();
  std::vector<uint32_t> end(kBuckets);
  std::vector<uint16_t> entries;
  entries.reserve(entries_.size() + codes.size());
  size_t at = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    entries.insert(entries.end(), entries_.begin() + (b == 0 ? 0 : bucket_end_[b - 1]),
                   entries_.begin() + bucket_end_[b]);
    for (; at < codes.size() && codes[at] >> 8 == b; ++at) {
      entries.push_back(static_cast<uint16_t>((codes[at] & 0xff) << 8 | index));
    }
    end[b] = static_cast<uint32_t>(entries.size());
  }
  bucket_end_ = std::move(end);
  entries_ = std::move(entries);
  density_.push_back(print.density());
}

void EdgePairCohort::Evidence(std::span<const uint32_t> gallery_codes, std::vector<float>& out) const {
  std::vector<uint16_t> hits(size(), 0);
  for (uint32_t c : gallery_codes) {
    const uint32_t b = c >> 8, low = c & 0xff;
    for (uint32_t i = b == 0 ? 0 : bucket_end_[b - 1]; i < bucket_end_[b]; ++i) {
      if (entries_[i] >> 8 == low) ++hits[entries_[i] & 0xff];
    }
  }
  out.resize(size());
  for (size_t k = 0; k < size(); ++k) out[k] = EdgePairZ(hits[k], gallery_codes.size(), density_[k]);
}

size_t EdgePairCohort::Bytes() const {
  return bucket_end_.capacity() * sizeof(uint32_t) + entries_.capacity() * sizeof(uint16_t) +
         density_.capacity() * sizeof(float);
}

}  // namespace ektp::bio
