// Minutia cylinders and their hash index (cylinder_index.h).
//
// Constants, from the matcher's tolerances and the ridge period (about 9 px
// at 500 dpi), not fitted to any database:
// - Radius 72 px (8 ridge periods), 8 x 8 spatial cells of 18 px (two ridge
//   periods) and 6 direction cells of 60 degrees (the matcher accepts a
//   direction error of +-34 degrees, so a mated neighbour stays in its cell
//   or the next).
// - A neighbour contributes exp(-d^2 / 2 sS^2) times the share of a normal
//   (sD) around its relative direction that falls in the direction cell,
//   with sS = kPairRadius / 1.5 = 8 px and sD = kPairAngleTol / 1.5 = 16
//   units: the matcher's tolerances are 1.5 standard deviations.
// - A cell is set when the contributions reach kSetAt: one neighbour at the
//   matcher's pair radius from the cell's centre with half its direction
//   mass in the cell.
// - A cell is valid when its centre lies within the radius and within the
//   minutiae's convex hull grown by kHullMargin (two cell sides: minutiae
//   thin out before the print ends). A cylinder is used when at least half of
//   its in-circle cells are valid and kMinNeighbours minutiae lie within
//   reach of its cells.
// - kHashes = 32 hash functions of kHashBits = 12 cells each (chosen
//   expecting a quarter of the cells set, where one function would collide
//   for a mate's cylinder about 0.85^12 = 14 % of the time and for a
//   stranger's 0.62^12 = 0.3 %; on FVC2002 only 6 to 15 % are set, so most
//   keys record a single neighbour). A key of no set cell is not indexed.
#include "bio/cylinder_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "bio/angle_units.h"
#include "bio/matcher_params.h"

namespace ektp::bio {
namespace {

constexpr float kRadius = 72;
constexpr int kSpatial = 8;
constexpr int kDirections = 6;
constexpr float kCell = 2 * kRadius / kSpatial;
constexpr float kSigmaS = params::kPairRadius / 1.5f;
constexpr float kSigmaD = params::kPairAngleTol / 1.5f;  // units
constexpr float kReach = 3 * kSigmaS;                    // px: farther neighbours contribute nothing
constexpr float kHullMargin = 2 * kCell;
constexpr size_t kMinNeighbours = 4;
constexpr int kHashes = 32;
constexpr int kHashBits = 12;
constexpr uint32_t kSeed = 0x4d4343;  // "MCC"
constexpr int kCells = kSpatial * kSpatial * kDirections;

// exp(-r^2 / 2 sS^2) at r = kPairRadius, times one half.
const float kSetAt = 0.5f * std::exp(-0.5f * (params::kPairRadius / kSigmaS) * (params::kPairRadius / kSigmaS));

// Spatial cell (i, j): its centre in the cylinder's frame.
inline float CellOffset(int i) { return (static_cast<float>(i) - (kSpatial - 1) / 2.0f) * kCell; }

bool InCircle(int i, int j) { return std::hypot(CellOffset(i), CellOffset(j)) <= kRadius; }

struct HashFunctions {
  std::array<std::array<uint16_t, kHashBits>, kHashes> cells;  // spatial * kDirections + direction
  HashFunctions() {
    std::vector<uint16_t> usable;
    for (int i = 0; i < kSpatial; ++i) {
      for (int j = 0; j < kSpatial; ++j) {
        if (!InCircle(i, j)) continue;
        for (int d = 0; d < kDirections; ++d) usable.push_back(static_cast<uint16_t>((i * kSpatial + j) * kDirections + d));
      }
    }
    std::mt19937 rng(kSeed);  // mt19937's sequence is fixed by the standard
    for (auto& f : cells) {
      for (int b = 0; b < kHashBits; ++b) {
        uint16_t c;
        do {
          c = usable[rng() % usable.size()];
        } while (std::find(f.begin(), f.begin() + b, c) != f.begin() + b);
        f[b] = c;
      }
    }
  }
};

const HashFunctions& Hashes() {
  static const HashFunctions h;
  return h;
}

struct Point {
  float x, y;
};

// Andrew's monotone chain: the hull counter-clockwise (y up), without
// repeated points; fewer than 3 points are returned as they are.
std::vector<Point> ConvexHull(std::vector<Point> p) {
  std::sort(p.begin(), p.end(), [](const Point& a, const Point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  if (p.size() < 3) return p;
  auto cross = [](const Point& o, const Point& a, const Point& b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  };
  std::vector<Point> h(2 * p.size());
  size_t k = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  for (size_t i = p.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i - 1]) <= 0) --k;
    h[k++] = p[i - 1];
  }
  h.resize(k - 1);
  return h;
}

// Whether q lies inside `hull` or within `margin` of it.
bool NearHull(const std::vector<Point>& hull, Point q, float margin) {
  if (hull.empty()) return false;
  bool inside = hull.size() >= 3;
  float best = std::hypot(q.x - hull[0].x, q.y - hull[0].y);
  for (size_t i = 0; i < hull.size(); ++i) {
    const Point& a = hull[i];
    const Point& b = hull[(i + 1) % hull.size()];
    const float ex = b.x - a.x, ey = b.y - a.y;
    if (ex * (q.y - a.y) - ey * (q.x - a.x) < 0) inside = false;
    const float len2 = ex * ex + ey * ey;
    const float t = len2 > 0 ? std::clamp(((q.x - a.x) * ex + (q.y - a.y) * ey) / len2, 0.0f, 1.0f) : 0.0f;
    best = std::min(best, std::hypot(q.x - (a.x + t * ex), q.y - (a.y + t * ey)));
  }
  return inside || best <= margin;
}

// mass[r][d]: the share of a normal (kSigmaD) around relative direction r
// (units) that falls in direction cell d, the circle wrapping.
struct DirectionMasses {
  std::array<std::array<float, kDirections>, 256> mass;
  DirectionMasses() {
    constexpr float w = 256.0f / kDirections;
    const float s = kSigmaD * std::sqrt(2.0f);
    for (int r = 0; r < 256; ++r) {
      for (int d = 0; d < kDirections; ++d) {
        // Wrapped difference to the cell's centre, in [-128, 128).
        float delta = static_cast<float>(r) - (static_cast<float>(d) + 0.5f) * w;
        delta -= 256.0f * std::floor((delta + 128.0f) / 256.0f);
        mass[r][d] = 0.5f * (std::erf((delta + w / 2) / s) - std::erf((delta - w / 2) / s));
      }
    }
  }
};

const DirectionMasses& Masses() {
  static const DirectionMasses m;
  return m;
}

}  // namespace

CylinderCodes EncodeCylinders(const FingerFeatures& features) {
  const std::vector<Minutia> m = features.Minutiae();
  CylinderCodes out;
  if (m.size() < kMinNeighbours + 1) return out;
  std::vector<Point> points;
  for (const Minutia& a : m) points.push_back({a.x, a.y});
  const std::vector<Point> hull = ConvexHull(points);
  const HashFunctions& hashes = Hashes();
  const DirectionMasses& masses = Masses();
  int in_circle = 0;
  for (int i = 0; i < kSpatial; ++i) {
    for (int j = 0; j < kSpatial; ++j) in_circle += InCircle(i, j);
  }
  std::array<float, kCells> contribution;
  std::array<uint8_t, kSpatial * kSpatial> valid;
  std::vector<size_t> near;
  for (size_t c = 0; c < m.size(); ++c) {
    const float phi = static_cast<float>(m[c].angle) / kUnitsPerRadian;
    const float cs = std::cos(phi), sn = std::sin(phi);
    near.clear();
    for (size_t n = 0; n < m.size(); ++n) {
      if (n != c && std::hypot(m[n].x - m[c].x, m[n].y - m[c].y) <= kRadius + kReach) near.push_back(n);
    }
    if (near.size() < kMinNeighbours) continue;
    contribution.fill(0);
    int valid_cells = 0;
    for (int i = 0; i < kSpatial; ++i) {
      for (int j = 0; j < kSpatial; ++j) {
        const int s = i * kSpatial + j;
        const float u = CellOffset(i), v = CellOffset(j);
        const Point centre{m[c].x + u * cs - v * sn, m[c].y + u * sn + v * cs};
        valid[s] = InCircle(i, j) && NearHull(hull, centre, kHullMargin);
        if (!valid[s]) continue;
        ++valid_cells;
        for (size_t n : near) {
          const float dx = m[n].x - centre.x, dy = m[n].y - centre.y;
          const float d2 = dx * dx + dy * dy;
          if (d2 > kReach * kReach) continue;
          const float gs = std::exp(-d2 / (2 * kSigmaS * kSigmaS));
          const auto& mass = masses.mass[static_cast<uint8_t>(m[n].angle - m[c].angle)];
          for (int d = 0; d < kDirections; ++d) contribution[s * kDirections + d] += gs * mass[d];
        }
      }
    }
    if (2 * valid_cells < in_circle) continue;
    ++out.cylinders;
    for (int f = 0; f < kHashes; ++f) {
      uint64_t value = 0;
      bool ok = true;
      for (int b = 0; b < kHashBits && ok; ++b) {
        const int cell = hashes.cells[f][b];
        ok = valid[cell / kDirections] != 0;
        value |= static_cast<uint64_t>(contribution[cell] >= kSetAt) << b;
      }
      // A key that records no neighbour is shared with most strangers and
      // has the longest posting list: not indexed.
      if (ok && value != 0) out.keys.push_back(static_cast<uint64_t>(f) << 32 | value);
    }
  }
  return out;
}

void CylinderIndex::Add(const CylinderCodes& codes) {
  std::vector<uint64_t> keys = codes.keys;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const uint32_t entry = static_cast<uint32_t>(keys_.size());
  for (uint64_t k : keys) postings_[k].push_back(entry);
  keys_.push_back(static_cast<uint32_t>(keys.size()));
}

std::vector<float> CylinderIndex::Score(const CylinderCodes& probe, size_t* postings) const {
  std::vector<float> hits(keys_.size(), 0.0f);
  size_t visited = 0;
  const float entries = static_cast<float>(keys_.size());
  for (uint64_t k : probe.keys) {
    auto it = postings_.find(k);
    if (it == postings_.end()) continue;
    visited += it->second.size();
    // A key held by few entries is more evidence than one held by many.
    const float weight = std::log((entries + 1) / (static_cast<float>(it->second.size()) + 0.5f));
    for (uint32_t e : it->second) hits[e] += weight;
  }
  if (postings != nullptr) *postings = visited;
  std::vector<float> rate;
  for (size_t e = 0; e < keys_.size(); ++e) {
    if (keys_[e] > 0) rate.push_back(hits[e] / static_cast<float>(keys_[e]));
  }
  std::vector<float> z(keys_.size(), 0.0f);
  if (rate.empty()) return z;
  std::nth_element(rate.begin(), rate.begin() + static_cast<std::ptrdiff_t>(rate.size() / 2), rate.end());
  const float lambda = rate[rate.size() / 2];
  for (size_t e = 0; e < keys_.size(); ++e) {
    if (keys_[e] == 0) continue;
    const float expected = lambda * static_cast<float>(keys_[e]);
    z[e] = (hits[e] - expected) / std::sqrt(expected + 1.0f);
  }
  return z;
}

size_t CylinderIndex::MemoryBytes() const {
  size_t bytes = keys_.capacity() * sizeof(uint32_t);
  // Each node: key, vector header, next pointer and the cached hash.
  bytes += postings_.size() * (sizeof(uint64_t) + sizeof(std::vector<uint32_t>) + 2 * sizeof(void*)) +
           postings_.bucket_count() * sizeof(void*);
  for (const auto& [key, entries] : postings_) bytes += entries.capacity() * sizeof(uint32_t);
  return bytes;
}

}  // namespace ektp::bio
