// Deterministic synthetic fingerprints (docs/biometrics.md, "Synthetic
// fingerprints"), as hard to match as real captures.
//
// Each (seed, subject, finger) has a master finger: an elliptical finger
// area, a pattern class (arch, tented arch, left/right loop, whorl) whose
// cores and deltas drive a zero-pole orientation field, and minutiae placed
// with a minimum spacing, each pointing along the local ridge flow.
// An impression of it models what makes real captures hard, each effect a
// field of SynthParams: a capture window displaced and rotated against the
// finger (partial overlap), a contact area that varies with pressure, a
// smooth non-linear skin distortion growing away from the centre of
// pressure, a per-impression noise field (dry, wet or smudged patches) that
// drives missing minutiae, spurious minutiae, position and direction noise,
// and the per-minutia quality reported in the template.
//
// Everything is a pure function of (params, seed, subject, finger,
// impression): the same call returns the same minutiae on every run and
// platform (the generator uses its own splitmix64 stream and no <random>
// distributions).
//
// Thread-safety: SynthGenerator is immutable; call it from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "bio/matcher.h"
#include "bio/template.h"

namespace ektp::bio {

enum class PatternClass { kArch, kTentedArch, kLeftLoop, kRightLoop, kWhorl };

// The model's parameters. Units: px at 500 dpi, degrees. A field set to 0
// switches its effect off. The field defaults model clean, well-placed
// captures (for functional tests and the demo, where a planted duplicate must
// be found); Calibrated() models prints as hard as FVC2002's and is what
// `ektp bio synth`, `ektp bio scale` and `ektp bio bench` use
// (docs/biometrics.md, "Calibration of the synthetic model").
struct SynthParams {
  // Master finger. Minutiae on the whole finger area (before any window).
  float minutiae_mean = 62;
  float minutiae_sd = 12;
  // Share of minutiae whose direction follows the finger's polarity field
  // (pointing away from the nearest core, as ridge endings tend to); the
  // rest pick either direction of the ridge with equal chance.
  float polarity_coherence = 0;

  // Placement of the impression against the finger: the sd of the rigid
  // rotation, and of the capture window's centre from the finger's centre
  // (x; 1.4 x that along y): partial overlap.
  float rotation_sd_deg = 9;
  float displacement_sd_px = 25;
  // Contact area (pressure): an ellipse of a uniform share in
  // [contact_min, 1] of the finger's, its centre (the centre of pressure)
  // off the finger's by sd contact_offset_px (x; 1.3 x that along y).
  float contact_min = 0.78f;
  float contact_offset_px = 15;
  // Non-linear skin distortion: a smooth random displacement field whose
  // RMS is distortion_px at distortion_radius_px from the centre of
  // pressure, growing linearly with the distance from it (0 at the centre,
  // capped at twice the radius), with wavelengths of 250..500 px.
  float distortion_px = 3;
  float distortion_radius_px = 150;
  // Global scale change between impressions (sd of each axis's factor - 1).
  float scale_sd = 0.015f;

  // The noise field: each impression has a noise level in [0, 1] at every
  // point, a per-impression base uniform in [0.5 - noise_spread,
  // 0.5 + noise_spread] plus smooth patches of amplitude noise_patch_amplitude.
  // Every effect below is given at the mean level 0.5 and scales with
  // 0.25 + 1.5 x level (x0.25 where the print is clean, x1.75 at the worst).
  float noise_spread = 0.3f;
  float noise_patch_amplitude = 0.25f;
  // Share of visible minutiae the extractor misses.
  float missing_rate = 0.125f;
  // Mean number of spurious minutiae per impression (Poisson), placed along
  // the ridge flow, more where the noise is high.
  float spurious_mean = 3;
  // Localisation error (sd per axis) and direction error (sd).
  float position_noise_px = 1.5f;
  float direction_noise_deg = 4.2f;
  // Share of minutiae reported with the wrong type (ending/bifurcation).
  float type_flip_rate = 0.1f;

  // Fitted to FVC2002 DB1, DB3 and DB4 (DB2 held out); `ektp bio
  // synth-calibrate --search` reproduces the fit.
  static SynthParams Calibrated() {
    SynthParams p;
    p.minutiae_mean = 45;
    p.polarity_coherence = 1;
    p.displacement_sd_px = 65;
    p.distortion_px = 2.87f;
    p.noise_spread = 0.231f;
    p.missing_rate = 0.084f;
    p.spurious_mean = 2.8f;
    p.position_noise_px = 2;
    p.direction_noise_deg = 6.5f;
    return p;
  }
};

struct MasterFinger {
  PatternClass pattern = PatternClass::kArch;
  float center_x = 0, center_y = 0;  // finger centre, y up (pixels at 500 dpi)
  float semi_x = 0, semi_y = 0;      // finger ellipse
  std::vector<std::pair<float, float>> cores, deltas;
  std::vector<Minutia> minutiae;     // y up
};

// One impression with what the generator knows about each minutia.
struct SynthImpression {
  std::vector<Minutia> minutiae;  // capture-window coordinates, top to bottom
  // Per minutia: the index of its master minutia, or -1 for a spurious one.
  std::vector<int> origin;
  // Per minutia: the reported quality 1..100 (100 - 100 x local noise level).
  std::vector<uint8_t> quality;
  // Per minutia: the distortion displacement applied (before rotation,
  // window placement and noise), px; 0 for spurious ones.
  std::vector<float> distortion_px;
  // Master minutiae inside both the window and the contact area, before the
  // missing ones were dropped.
  int visible = 0;
  float noise_base = 0;  // this impression's base noise level
};

class SynthGenerator {
 public:
  static constexpr int kWindowWidth = 320;
  static constexpr int kWindowHeight = 420;

  explicit SynthGenerator(uint64_t seed, const SynthParams& params = {}) : seed_(seed), params_(params) {}

  const SynthParams& params() const { return params_; }

  // `finger` is the ISO finger position, 1..10.
  MasterFinger Master(uint64_t subject, int finger) const;
  // Minutiae of one impression, in capture-window coordinates (y up, x in
  // [0, kWindowWidth), y in (-kWindowHeight, 0]).
  std::vector<Minutia> Impression(const MasterFinger& master, uint64_t subject, int finger, int impression) const {
    return Detail(master, subject, finger, impression).minutiae;
  }
  SynthImpression Detail(const MasterFinger& master, uint64_t subject, int finger, int impression) const;

  // Ridge orientation (radians, mod pi) of `master` at (x, y).
  static float Orientation(const MasterFinger& master, float x, float y);

  // An ISO/IEC 19794-2:2005 record holding one impression; minutia quality
  // from `quality` when given (same length as `minutiae`), else 60.
  static TemplateRecord ToRecord(const std::vector<Minutia>& minutiae, int finger,
                                 const std::vector<uint8_t>& quality = {});
  static TemplateRecord ToRecord(const SynthImpression& impression, int finger) {
    return ToRecord(impression.minutiae, finger, impression.quality);
  }

 private:
  uint64_t seed_;
  SynthParams params_;
};

}  // namespace ektp::bio
