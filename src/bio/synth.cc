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
  const SynthParams& p = params_;
  Rng rng(Mix(seed_, subject, static_cast<uint64_t>(finger), 0x6d6173746572ULL));
  MasterFinger m;
  float u = rng.Uniform();
  m.pattern = u < 0.05f   ? PatternClass::kArch
              : u < 0.10f ? PatternClass::kTentedArch
              : u < 0.43f ? PatternClass::kLeftLoop
              : u < 0.75f ? PatternClass::kRightLoop
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
  // The polarity field points away from the nearest core (from the finger's
  // upper middle for arches).
  auto polarity_reference = [&](float x, float y) {
    float rx = m.center_x, ry = m.center_y + 0.3f * m.semi_y, best = 1e30f;
    for (const auto& [sx, sy] : m.cores) {
      float d = (sx - x) * (sx - x) + (sy - y) * (sy - y);
      if (d < best) best = d, rx = sx, ry = sy;
    }
    return std::atan2(y - ry, x - rx);
  };
  const float hi = std::max(p.minutiae_mean * 1.6f, 1.0f);
  const int target = static_cast<int>(std::clamp(rng.Normal(p.minutiae_mean, p.minutiae_sd), 0.0f, hi));
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
    float theta = Orientation(m, x, y);
    if (rng.Chance(p.polarity_coherence)) {
      // The ridge direction nearer the polarity reference.
      if (std::cos(theta - polarity_reference(x, y)) < 0) theta += kPi;
    } else if (rng.Chance(0.5f)) {
      theta += kPi;
    }
    theta += rng.Normal(0, 0.06f);
    Minutia minutia;
    minutia.x = x;
    minutia.y = y;
    minutia.angle = ToUnits(theta);
    minutia.type = rng.Chance(0.55f) ? kMinutiaEnding : kMinutiaBifurcation;
    m.minutiae.push_back(minutia);
  }
  return m;
}

SynthImpression SynthGenerator::Detail(const MasterFinger& m, uint64_t subject, int finger, int impression) const {
  const SynthParams& p = params_;
  Rng rng(Mix(seed_, subject, static_cast<uint64_t>(finger), 0x696d7072ULL + static_cast<uint64_t>(impression)));
  // Smooth random fields: sums of plane waves with wavelengths 250..500 px.
  struct Wave {
    float amplitude, fx, fy, phase;
    float At(float x, float y) const { return amplitude * std::sin(fx * x + fy * y + phase); }
  };
  auto draw_waves = [&](Wave* waves, int n, float amplitude) {
    for (int i = 0; i < n; ++i) {
      float dir = rng.Uniform(0, 2 * kPi), freq = 2 * kPi / rng.Uniform(250, 500);
      waves[i] = {amplitude, freq * std::cos(dir), freq * std::sin(dir), rng.Uniform(0, 2 * kPi)};
    }
  };
  // Distortion: three waves per axis of amplitude 1/sqrt(3) each, so each
  // axis has variance 3 x 1/3 x 1/2 = 1/2 and the vector an RMS length of 1
  // (scaled by the gain below).
  Wave distortion[6];
  draw_waves(distortion, 6, 1 / std::sqrt(3.0f));
  Wave noise_patches[2];  // together at most +-noise_patch_amplitude
  draw_waves(noise_patches, 2, p.noise_patch_amplitude / 2);
  const float stretch_x = 1 + rng.Normal(0, p.scale_sd), stretch_y = 1 + rng.Normal(0, p.scale_sd);
  const float rot = std::clamp(rng.Normal(0, p.rotation_sd_deg * kPi / 180), -kPi / 3, kPi / 3);
  const float c = std::cos(rot), s = std::sin(rot);
  // Window centre relative to the finger centre: partial overlap.
  const float wx = m.center_x + rng.Normal(0, p.displacement_sd_px),
              wy = m.center_y + rng.Normal(0, p.displacement_sd_px * 1.4f);
  // Contact area (pressure) and its centre, the centre of pressure.
  const float contact = rng.Uniform(std::min(p.contact_min, 1.0f), 1.0f);
  const float pressure_x = m.center_x + rng.Normal(0, p.contact_offset_px),
              pressure_y = m.center_y + rng.Normal(0, p.contact_offset_px * 1.3f);
  const float noise_base = rng.Uniform(0.5f - p.noise_spread, 0.5f + p.noise_spread);

  // Master coordinates -> distortion vector.
  auto distort = [&](float x, float y, float* dx, float* dy) {
    float r = std::hypot(x - pressure_x, y - pressure_y);
    float gain = p.distortion_radius_px > 0 ? p.distortion_px * std::min(r / p.distortion_radius_px, 2.0f) : 0;
    *dx = *dy = 0;
    for (int i = 0; i < 3; ++i) *dx += distortion[i].At(x, y);
    for (int i = 3; i < 6; ++i) *dy += distortion[i].At(x, y);
    *dx *= gain;
    *dy *= gain;
  };
  // Master coordinates (already distorted) -> window coordinates.
  auto place = [&](float x, float y, float* ox, float* oy) {
    float px = (x - wx) * stretch_x, py = (y - wy) * stretch_y;
    *ox = c * px - s * py + kWindowWidth / 2.0f;
    *oy = s * px + c * py - kWindowHeight / 2.0f;
  };
  auto in_window = [](float x, float y) { return x >= 0 && x < kWindowWidth && y <= 0 && y > -kWindowHeight; };
  auto in_contact = [&](float x, float y) {
    return InEllipse(x, y, pressure_x, pressure_y, m.semi_x * contact, m.semi_y * contact);
  };
  auto noise_at = [&](float x, float y) {
    return std::clamp(noise_base + noise_patches[0].At(x, y) + noise_patches[1].At(x, y), 0.0f, 1.0f);
  };
  auto effect = [](float level) { return 0.25f + 1.5f * level; };
  auto quality_of = [](float level) {
    return static_cast<uint8_t>(std::clamp(std::lround(100 * (1 - level)), 1L, 100L));
  };

  struct Out {
    Minutia minutia;
    int origin;
    uint8_t quality;
    float distortion;
  };
  std::vector<Out> out;
  SynthImpression result;
  result.noise_base = noise_base;
  for (size_t i = 0; i < m.minutiae.size(); ++i) {
    const Minutia& mm = m.minutiae[i];
    const float level = noise_at(mm.x, mm.y), k = effect(level);
    float dx, dy, x, y;
    distort(mm.x, mm.y, &dx, &dy);
    place(mm.x + dx, mm.y + dy, &x, &y);
    // Localisation noise first, so the window test sees the final position.
    x += rng.Normal(0, p.position_noise_px * k);
    y += rng.Normal(0, p.position_noise_px * k);
    const float direction_error = rng.Normal(0, p.direction_noise_deg * k * kPi / 180);
    const bool missed = rng.Chance(std::min(p.missing_rate * k, 0.95f));
    const bool flipped = rng.Chance(p.type_flip_rate);
    if (!in_window(x, y) || !in_contact(mm.x, mm.y)) continue;
    ++result.visible;
    if (missed) continue;
    Minutia n = mm;
    n.x = x;
    n.y = y;
    n.angle = ToUnits(static_cast<float>(mm.angle) * 2 * kPi / 256 + rot + direction_error);
    if (flipped) n.type = n.type == kMinutiaEnding ? kMinutiaBifurcation : kMinutiaEnding;
    out.push_back({n, static_cast<int>(i), quality_of(level), std::hypot(dx, dy)});
  }
  // Spurious minutiae along the local flow, in the contact area, more where
  // the noise is high (accepted with chance effect(level) / 1.75).
  const int spurious = rng.Poisson(p.spurious_mean);
  for (int i = 0, tries = 0; i < spurious && tries < 50 * (spurious + 1); ++tries) {
    float x = rng.Uniform(m.center_x - m.semi_x, m.center_x + m.semi_x);
    float y = rng.Uniform(m.center_y - m.semi_y, m.center_y + m.semi_y);
    const float level = noise_at(x, y);
    const bool keep = rng.Chance(effect(level) / 1.75f);
    const float theta = Orientation(m, x, y) + (rng.Chance(0.5f) ? 0 : kPi);
    float dx, dy, ix, iy;
    distort(x, y, &dx, &dy);
    place(x + dx, y + dy, &ix, &iy);
    if (!in_window(ix, iy) || !in_contact(x, y) || !keep) continue;
    Minutia n;
    n.x = ix;
    n.y = iy;
    n.angle = ToUnits(theta + rot);
    n.type = rng.Chance(0.5f) ? kMinutiaEnding : kMinutiaBifurcation;
    out.push_back({n, -1, quality_of(level), 0});
    ++i;
  }
  // Deterministic order (top to bottom), as extractors emit.
  std::sort(out.begin(), out.end(), [](const Out& a, const Out& b) {
    return a.minutia.y != b.minutia.y ? a.minutia.y > b.minutia.y : a.minutia.x < b.minutia.x;
  });
  for (const Out& o : out) {
    result.minutiae.push_back(o.minutia);
    result.origin.push_back(o.origin);
    result.quality.push_back(o.quality);
    result.distortion_px.push_back(o.distortion);
  }
  return result;
}

TemplateRecord SynthGenerator::ToRecord(const std::vector<Minutia>& minutiae, int finger,
                                        const std::vector<uint8_t>& quality) {
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
  for (size_t i = 0; i < minutiae.size(); ++i) {
    if (view.minutiae.size() == 255) break;
    const Minutia& m = minutiae[i];
    RecordMinutia r;
    r.type = m.type;
    r.x = static_cast<uint16_t>(std::clamp(std::lround(m.x), 0L, static_cast<long>(kWindowWidth - 1)));
    r.y = static_cast<uint16_t>(std::clamp(std::lround(-m.y), 0L, static_cast<long>(kWindowHeight - 1)));
    r.angle = m.angle;
    r.quality = quality.size() == minutiae.size() ? quality[i] : 60;
    view.minutiae.push_back(r);
  }
  if (quality.size() == minutiae.size() && !quality.empty()) {
    unsigned sum = 0;
    for (uint8_t q : quality) sum += q;
    view.quality = static_cast<uint8_t>(sum / quality.size());
  }
  record.views.push_back(std::move(view));
  return record;
}

}  // namespace ektp::bio
