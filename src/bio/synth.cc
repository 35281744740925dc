#include "bio/synth.h"

#include <algorithm>
#include <cmath>

namespace ektp::bio {
namespace {

constexpr float kPi = 3.14159265358979f;

// splitmix64: small, fast and identical everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  float Uniform() { return static_cast<float>(Next() >> 40) / static_cast<float>(1ULL << 24); }  // [0, 1)
  float Uniform(float lo, float hi) { return lo + (hi - lo) * Uniform(); }
  float Normal(float mean, float sd) {
    float u1 = std::max(Uniform(), 1e-7f), u2 = Uniform();
    return mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
  bool Chance(float p) { return Uniform() < p; }
  int Poisson(float mean) {
    float l = std::exp(-mean), p = 1;
    int k = 0;
    do {
      ++k;
      p *= Uniform();
    } while (p > l && k < 100);
    return k - 1;
  }

 private:
  uint64_t state_;
};

uint64_t Mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  Rng r(a ^ (b * 0x9e3779b97f4a7c15ULL) ^ (c * 0xc2b2ae3d27d4eb4fULL) ^ (d * 0x165667b19e3779f9ULL));
  r.Next();
  return r.Next();
}

uint8_t ToUnits(float radians) {
  long u = std::lround(radians * 256 / (2 * kPi));
  return static_cast<uint8_t>(u & 0xff);
}

bool InEllipse(float x, float y, float cx, float cy, float ax, float ay) {
  float dx = (x - cx) / ax, dy = (y - cy) / ay;
  return dx * dx + dy * dy <= 1;
}

}  // namespace

float SynthGenerator::Orientation(const MasterFinger& m, float x, float y) {
  if (m.pattern == PatternClass::kArch) {
    // Ridges run across the finger, bulging upwards in the middle.
    float u = (x - m.center_x) / m.semi_x;
    float v = (y - (m.center_y - 0.3f * m.semi_y)) / m.semi_y;
    return std::atan(-1.2f * u * std::exp(-2 * v * v));
  }
  float theta = 0;
  for (const auto& [cx, cy] : m.cores) theta += std::atan2(y - cy, x - cx);
  for (const auto& [dx, dy] : m.deltas) theta -= std::atan2(y - dy, x - dx);
  return theta / 2;
}

MasterFinger SynthGenerator::Master(uint64_t subject, int finger) const {
  Rng rng(Mix(seed_, subject, static_cast<uint64_t>(finger), 0x6d6173746572ULL));
  MasterFinger m;
  float p = rng.Uniform();
  m.pattern = p < 0.05f   ? PatternClass::kArch
              : p < 0.10f ? PatternClass::kTentedArch
              : p < 0.43f ? PatternClass::kLeftLoop
              : p < 0.75f ? PatternClass::kRightLoop
                          : PatternClass::kWhorl;
  m.center_x = rng.Normal(160, 10);
  m.center_y = rng.Normal(-210, 10);
  m.semi_x = std::clamp(rng.Normal(150, 12), 120.0f, 185.0f);
  m.semi_y = std::clamp(rng.Normal(205, 15), 170.0f, 250.0f);
  const float cx = m.center_x + rng.Normal(0, 15), cy = m.center_y + rng.Normal(25, 15);
  switch (m.pattern) {
    case PatternClass::kArch: break;
    case PatternClass::kTentedArch:
      m.cores.push_back({cx, cy});
      m.deltas.push_back({cx + rng.Normal(0, 8), cy - rng.Uniform(50, 80)});
      break;
    case PatternClass::kLeftLoop:
    case PatternClass::kRightLoop: {
      float side = m.pattern == PatternClass::kLeftLoop ? 1.0f : -1.0f;
      m.cores.push_back({cx, cy});
      m.deltas.push_back({cx + side * rng.Uniform(80, 130), cy - rng.Uniform(90, 140)});
      break;
    }
    case PatternClass::kWhorl: {
      float spread = rng.Uniform(10, 35);
      m.cores.push_back({cx - spread / 2, cy + rng.Normal(0, 8)});
      m.cores.push_back({cx + spread / 2, cy + rng.Normal(0, 8)});
      m.deltas.push_back({cx - rng.Uniform(90, 130), cy - rng.Uniform(90, 140)});
      m.deltas.push_back({cx + rng.Uniform(90, 130), cy - rng.Uniform(90, 140)});
      break;
    }
  }
  // About 45 minutiae per 320 x 420 window at 500 dpi, as in FVC-class data.
  const int target = static_cast<int>(std::clamp(rng.Normal(62, 12), 35.0f, 95.0f));
  constexpr float kMinSpacing = 14;
  for (int attempt = 0; attempt < target * 40 && static_cast<int>(m.minutiae.size()) < target; ++attempt) {
    float x = rng.Uniform(m.center_x - m.semi_x, m.center_x + m.semi_x);
    float y = rng.Uniform(m.center_y - m.semi_y, m.center_y + m.semi_y);
    if (!InEllipse(x, y, m.center_x, m.center_y, m.semi_x, m.semi_y)) continue;
    bool near = false;
    for (const Minutia& o : m.minutiae) {
      if ((o.x - x) * (o.x - x) + (o.y - y) * (o.y - y) < kMinSpacing * kMinSpacing) {
        near = true;
        break;
      }
    }
    // Fewer minutiae right at the singular points (as in real prints).
    for (const auto& [sx, sy] : m.cores) near |= (sx - x) * (sx - x) + (sy - y) * (sy - y) < 100;
    if (near) continue;
    float theta = Orientation(m, x, y) + (rng.Chance(0.5f) ? 0 : kPi) + rng.Normal(0, 0.06f);
    Minutia minutia;
    minutia.x = x;
    minutia.y = y;
    minutia.angle = ToUnits(theta);
    minutia.type = rng.Chance(0.55f) ? kMinutiaEnding : kMinutiaBifurcation;
    m.minutiae.push_back(minutia);
  }
  return m;
}

std::vector<Minutia> SynthGenerator::Impression(const MasterFinger& m, uint64_t subject, int finger,
                                                int impression) const {
  Rng rng(Mix(seed_, subject, static_cast<uint64_t>(finger), 0x696d7072ULL + static_cast<uint64_t>(impression)));
  // Elastic distortion: a sum of three smooth waves per axis (up to ~10 px).
  struct Wave {
    float ax, fx, fy, phase;
  };
  Wave waves[6];
  for (Wave& w : waves) {
    float dir = rng.Uniform(0, 2 * kPi), freq = 2 * kPi / rng.Uniform(250, 500);
    w = {rng.Normal(0, 2.5f), freq * std::cos(dir), freq * std::sin(dir), rng.Uniform(0, 2 * kPi)};
  }
  const float stretch_x = 1 + rng.Normal(0, 0.015f), stretch_y = 1 + rng.Normal(0, 0.015f);
  const float rot = std::clamp(rng.Normal(0, 0.16f), -0.5f, 0.5f);
  const float c = std::cos(rot), s = std::sin(rot);
  // Window centre relative to the finger centre: partial overlap.
  const float wx = m.center_x + rng.Normal(0, 25), wy = m.center_y + rng.Normal(0, 35);
  // Contact area: pressure varies between impressions.
  const float contact = rng.Uniform(0.78f, 1.0f);
  const float contact_dx = rng.Normal(0, 15), contact_dy = rng.Normal(0, 20);
  const float drop = rng.Uniform(0.05f, 0.2f);

  auto place = [&](float x, float y, float* ox, float* oy) {
    float dx = 0, dy = 0;
    for (int i = 0; i < 3; ++i) dx += waves[i].ax * std::sin(waves[i].fx * x + waves[i].fy * y + waves[i].phase);
    for (int i = 3; i < 6; ++i) dy += waves[i].ax * std::sin(waves[i].fx * x + waves[i].fy * y + waves[i].phase);
    float px = (x + dx - wx) * stretch_x, py = (y + dy - wy) * stretch_y;
    *ox = c * px - s * py + kWindowWidth / 2.0f;
    *oy = s * px + c * py - kWindowHeight / 2.0f;
  };
  auto visible = [&](float x, float y, float wxp, float wyp) {
    return wxp >= 0 && wxp < kWindowWidth && wyp <= 0 && wyp > -kWindowHeight &&
           InEllipse(x, y, m.center_x + contact_dx, m.center_y + contact_dy, m.semi_x * contact, m.semi_y * contact);
  };
  std::vector<Minutia> out;
  const uint8_t rot_units = ToUnits(rot);
  for (const Minutia& mm : m.minutiae) {
    float x, y;
    place(mm.x, mm.y, &x, &y);
    // Localisation noise first, so the window test sees the final position.
    x += rng.Normal(0, 1.5f);
    y += rng.Normal(0, 1.5f);
    if (!visible(mm.x, mm.y, x, y) || rng.Chance(drop)) continue;
    Minutia n = mm;
    n.x = x;
    n.y = y;
    n.angle = static_cast<uint8_t>(mm.angle + rot_units + static_cast<int>(std::lround(rng.Normal(0, 3))));
    if (rng.Chance(0.1f)) n.type = n.type == kMinutiaEnding ? kMinutiaBifurcation : kMinutiaEnding;
    out.push_back(n);
  }
  // Spurious minutiae along the local flow, somewhere in the contact area.
  int spurious = rng.Poisson(3);
  for (int i = 0, tries = 0; i < spurious && tries < 50; ++tries) {
    float x = rng.Uniform(m.center_x - m.semi_x, m.center_x + m.semi_x);
    float y = rng.Uniform(m.center_y - m.semi_y, m.center_y + m.semi_y);
    float ix, iy;
    place(x, y, &ix, &iy);
    if (!visible(x, y, ix, iy)) continue;
    Minutia n;
    n.x = ix;
    n.y = iy;
    n.angle = static_cast<uint8_t>(ToUnits(Orientation(m, x, y) + (rng.Chance(0.5f) ? 0 : kPi)) + rot_units);
    n.type = rng.Chance(0.5f) ? kMinutiaEnding : kMinutiaBifurcation;
    out.push_back(n);
    ++i;
  }
  // Deterministic order (top to bottom), as extractors emit.
  std::sort(out.begin(), out.end(), [](const Minutia& a, const Minutia& b) {
    return a.y != b.y ? a.y > b.y : a.x < b.x;
  });
  return out;
}

TemplateRecord SynthGenerator::ToRecord(const std::vector<Minutia>& minutiae, int finger) {
  TemplateRecord record;
  record.format = TemplateFormat::kIso19794_2_2005;
  record.width = kWindowWidth;
  record.height = kWindowHeight;
  record.resolution_x = record.resolution_y = 197;
  FingerView view;
  view.position = static_cast<uint8_t>(finger);
  view.quality = 60;
  view.width = record.width;
  view.height = record.height;
  view.resolution_x = view.resolution_y = 197;
  for (const Minutia& m : minutiae) {
    if (view.minutiae.size() == 255) break;
    RecordMinutia r;
    r.type = m.type;
    r.x = static_cast<uint16_t>(std::clamp(std::lround(m.x), 0L, static_cast<long>(kWindowWidth - 1)));
    r.y = static_cast<uint16_t>(std::clamp(std::lround(-m.y), 0L, static_cast<long>(kWindowHeight - 1)));
    r.angle = m.angle;
    r.quality = 60;
    view.minutiae.push_back(r);
  }
  record.views.push_back(std::move(view));
  return record;
}

}  // namespace ektp::bio
