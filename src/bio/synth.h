// Deterministic synthetic fingerprints for scale tests (docs/biometrics.md,
// "Synthetic data").
//
// Each (seed, subject, finger) has a master finger: an elliptical finger
// area, a pattern class (arch, tented arch, left/right loop, whorl) whose
// cores and deltas drive a zero-pole orientation field, and 30..80 minutiae
// placed with a minimum spacing, each pointing along the local ridge flow.
// An impression of it applies a smooth elastic displacement field, a rigid
// rotation/translation, position and angle noise, drops some minutiae, adds
// spurious ones and keeps only what falls inside a 320 x 420 px capture
// window placed off-centre (partial overlap).
//
// Everything is a pure function of (seed, subject, finger, impression): the
// same call returns the same minutiae on every run and platform (the
// generator uses its own splitmix64 stream and no <random> distributions).
//
// Thread-safety: SynthGenerator is immutable; call it from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "bio/matcher.h"
#include "bio/template.h"

namespace ektp::bio {

enum class PatternClass { kArch, kTentedArch, kLeftLoop, kRightLoop, kWhorl };

struct MasterFinger {
  PatternClass pattern = PatternClass::kArch;
  float center_x = 0, center_y = 0;  // finger centre, y up (pixels at 500 dpi)
  float semi_x = 0, semi_y = 0;      // finger ellipse
  std::vector<std::pair<float, float>> cores, deltas;
  std::vector<Minutia> minutiae;     // y up
};

class SynthGenerator {
 public:
  static constexpr int kWindowWidth = 320;
  static constexpr int kWindowHeight = 420;

  explicit SynthGenerator(uint64_t seed) : seed_(seed) {}

  // `finger` is the ISO finger position, 1..10.
  MasterFinger Master(uint64_t subject, int finger) const;
  // Minutiae of one impression, in capture-window coordinates (y up, x in
  // [0, kWindowWidth), y in (-kWindowHeight, 0]).
  std::vector<Minutia> Impression(const MasterFinger& master, uint64_t subject, int finger, int impression) const;

  // Ridge orientation (radians, mod pi) of `master` at (x, y).
  static float Orientation(const MasterFinger& master, float x, float y);

  // An ISO/IEC 19794-2:2005 record holding one impression.
  static TemplateRecord ToRecord(const std::vector<Minutia>& minutiae, int finger);

 private:
  uint64_t seed_;
};

}  // namespace ektp::bio
