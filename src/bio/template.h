// Minutiae template records: one in-memory model for ISO/IEC 19794-2:2005,
// ISO/IEC 19794-2:2011, ANSI/INCITS 378-2004, 378-2009 and 378-2009/AM1, with
// a decoder and an encoder for each. The byte layouts are described in
// docs/biometrics.md ("Template formats").
//
// Decoding is strict about structure and lenient about trailing bytes:
//   - the record length field is honoured (bytes after it are ignored, and a
//     length that points past the end of the input is refused);
//   - every read is bounds-checked; a truncated or inconsistent record yields
//     kInvalidArgument whose message names the field and byte offset.
// Fields are kept as raw codes (angle units and enum codes differ between the
// formats), so Encode(Decode(x)) reproduces x up to its declared length.
// Core/delta and zonal-quality blocks are kept as opaque extensions.
//
// Thread-safety: plain values; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ektp::bio {

enum class TemplateFormat {
  kIso19794_2_2005,
  kIso19794_2_2011,
  kAnsi378_2004,
  kAnsi378_2009,
  kAnsi378_2009Am1,
};

std::string_view TemplateFormatName(TemplateFormat format);  // "iso19794-2:2005", ...
StatusOr<TemplateFormat> ParseTemplateFormatName(std::string_view name);

// Raw 2-bit minutia type code: 0 other/either, 1 ridge ending, 2 bifurcation.
inline constexpr uint8_t kMinutiaOther = 0;
inline constexpr uint8_t kMinutiaEnding = 1;
inline constexpr uint8_t kMinutiaBifurcation = 2;

struct RecordMinutia {
  uint8_t type = kMinutiaEnding;  // 2-bit code, see above
  uint16_t x = 0;                 // pixels, 14 bits
  uint16_t y = 0;                 // pixels, 14 bits
  uint8_t angle = 0;              // ISO: 360/256 degree units; ANSI: 2 degree units (0..179)
  uint8_t quality = 0;            // 0..100, 254/255 special
  friend bool operator==(const RecordMinutia&, const RecordMinutia&) = default;
};

struct RidgeCountEdge {
  uint8_t from = 0;  // minutia index
  uint8_t to = 0;
  uint8_t count = 0;
  friend bool operator==(const RidgeCountEdge&, const RidgeCountEdge&) = default;
};

// Ridge count extension (type 0x0001 in every format).
struct RidgeCounts {
  uint8_t method = 0;             // 0 custom, 1 quadrants (4 neighbours), 2 octants
  std::vector<RidgeCountEdge> edges;
  std::vector<uint8_t> trailing;  // 1..2 misaligned bytes after the last edge, kept for round trip
  friend bool operator==(const RidgeCounts&, const RidgeCounts&) = default;
};

// Any other extended data block, kept byte for byte.
struct Extension {
  uint16_t type = 0;
  std::vector<uint8_t> data;
  friend bool operator==(const Extension&, const Extension&) = default;
};

// ISO 19794-2:2011 capture time; 0xff../0xffff means "not given".
struct CaptureDateTime {
  uint16_t year = 0xffff;
  uint8_t month = 0xff, day = 0xff, hour = 0xff, minute = 0xff, second = 0xff;
  uint16_t millisecond = 0xffff;
  friend bool operator==(const CaptureDateTime&, const CaptureDateTime&) = default;
};

struct QualityRecord {
  uint8_t quality = 0;
  uint16_t vendor = 0;
  uint16_t algorithm = 0;
  friend bool operator==(const QualityRecord&, const QualityRecord&) = default;
};

struct Certificate {
  uint16_t authority = 0;
  uint8_t scheme = 0;
  friend bool operator==(const Certificate&, const Certificate&) = default;
};

// One finger view (ISO "finger view record", 2011 "representation").
struct FingerView {
  uint8_t position = 0;   // 0 unknown, 1 right thumb .. 10 left little, higher: multi-finger codes
  uint8_t view = 0;       // view number, 0..15
  uint8_t scan_type = 0;  // impression type code
  uint8_t quality = 0;
  // ANSI 378-2009 (+AM1) only:
  uint16_t quality_vendor = 0;
  uint16_t quality_algorithm = 0;
  // ANSI 378-2009 and ISO 2011 carry image geometry per view; the older
  // formats carry it in the header and the decoder copies it here too.
  uint16_t width = 0, height = 0, resolution_x = 0, resolution_y = 0;
  // ISO 19794-2:2011 only:
  CaptureDateTime datetime;
  uint8_t sensor_type = 0;
  uint16_t sensor_vendor = 0;
  uint16_t sensor_id = 0;
  std::vector<QualityRecord> quality_records;
  std::vector<Certificate> certificates;
  uint8_t ending_type = 0;        // 0 valley skeleton bifurcation, 1 ridge skeleton end point
  bool minutia_quality = true;    // 6-byte minutiae (false: 5-byte, quality reads as 254)

  std::vector<RecordMinutia> minutiae;
  std::optional<RidgeCounts> counts;
  std::vector<Extension> extensions;  // in record order, minus the ridge count block
  friend bool operator==(const FingerView&, const FingerView&) = default;
};

struct TemplateRecord {
  TemplateFormat format = TemplateFormat::kIso19794_2_2005;
  // ISO 2005 and ANSI 2004 only: byte 4 of the record, ' ' (" 20") or '0'
  // ("020"); both spellings occur in the field. 0 = the format's usual one.
  uint8_t version_lead = 0;
  // ANSI only: CBEFF product identifier.
  uint16_t vendor_id = 0;
  uint16_t subformat = 0;
  // Not in ISO 2011 (there, per view). Compliance: the 4-bit field of ISO 2005
  // and ANSI 2004 (bit 3 = certified), the 8-bit field of ANSI 2009 (bit 7).
  uint8_t sensor_compliance = 0;
  uint16_t sensor_id = 0;
  // ISO 2005 and ANSI 2004 header geometry:
  uint16_t width = 0, height = 0, resolution_x = 0, resolution_y = 0;
  // ISO 2011 only: the record carries certification blocks.
  bool has_certificates = false;
  std::vector<FingerView> views;
  friend bool operator==(const TemplateRecord&, const TemplateRecord&) = default;
};

// Whether the sensor compliance field says "certified" (for record.format).
bool SensorCertified(const TemplateRecord& record);

// Guesses the format from the magic, version and length fields.
// Errors: kInvalidArgument if the bytes are not a minutiae record.
StatusOr<TemplateFormat> DetectTemplateFormat(std::span<const uint8_t> bytes);

// Decodes a record of any supported format (detected from its header).
StatusOr<TemplateRecord> DecodeTemplate(std::span<const uint8_t> bytes);
// Decodes as the given format.
StatusOr<TemplateRecord> DecodeTemplate(std::span<const uint8_t> bytes, TemplateFormat format);

// Encodes `record` in record.format. Errors: kInvalidArgument if a value does
// not fit its field (e.g. more than 255 minutiae, a coordinate above 14 bits).
StatusOr<std::vector<uint8_t>> EncodeTemplate(const TemplateRecord& record);

}  // namespace ektp::bio
