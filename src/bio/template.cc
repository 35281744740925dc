#include "bio/template.h"

#include <cstring>
#include <string>

namespace ektp::bio {
namespace {

constexpr uint8_t kMagic[4] = {'F', 'M', 'R', 0};

// Bounds-checked big-endian reader over a span; every failure names what was
// being read and where.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes, size_t base = 0) : bytes_(bytes), base_(base) {}

  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  Status Need(size_t n, std::string_view what) const {
    if (remaining() >= n) return Status::Ok();
    return InvalidArgument("truncated record: " + std::string(what) + " needs " + std::to_string(n) +
                           " bytes at offset " + std::to_string(offset()) + ", only " +
                           std::to_string(remaining()) + " left");
  }
  StatusOr<uint8_t> U8(std::string_view what) {
    RETURN_IF_ERROR(Need(1, what));
    return bytes_[pos_++];
  }
  StatusOr<uint16_t> U16(std::string_view what) {
    RETURN_IF_ERROR(Need(2, what));
    uint16_t v = static_cast<uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  StatusOr<uint32_t> U32(std::string_view what) {
    RETURN_IF_ERROR(Need(4, what));
    uint32_t v = (uint32_t{bytes_[pos_]} << 24) | (uint32_t{bytes_[pos_ + 1]} << 16) |
                 (uint32_t{bytes_[pos_ + 2]} << 8) | uint32_t{bytes_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  StatusOr<std::span<const uint8_t>> Bytes(size_t n, std::string_view what) {
    RETURN_IF_ERROR(Need(n, what));
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t base_;
  size_t pos_ = 0;
};

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void PutU32At(size_t at, uint32_t v) {
    out_[at] = static_cast<uint8_t>(v >> 24);
    out_[at + 1] = static_cast<uint8_t>(v >> 16);
    out_[at + 2] = static_cast<uint8_t>(v >> 8);
    out_[at + 3] = static_cast<uint8_t>(v);
  }
  void PutU16At(size_t at, uint16_t v) {
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
  }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

std::string ViewContext(size_t view_idx) { return "finger view " + std::to_string(view_idx); }

StatusOr<RecordMinutia> ReadMinutia(Reader& in, bool with_quality, size_t idx) {
  const std::string what = "minutia " + std::to_string(idx);
  RETURN_IF_ERROR(in.Need(with_quality ? 6 : 5, what));
  RecordMinutia m;
  ASSIGN_OR_RETURN(uint16_t tx, in.U16(what));
  ASSIGN_OR_RETURN(uint16_t ry, in.U16(what));
  ASSIGN_OR_RETURN(m.angle, in.U8(what));
  if (with_quality) {
    ASSIGN_OR_RETURN(m.quality, in.U8(what));
  } else {
    m.quality = 254;
  }
  m.type = static_cast<uint8_t>(tx >> 14);
  if (m.type == 3) {
    return InvalidArgument(what + " at offset " + std::to_string(in.offset() - (with_quality ? 6 : 5)) +
                           " has reserved type code 3");
  }
  m.x = tx & 0x3fff;
  m.y = ry & 0x3fff;
  return m;
}

void WriteMinutia(Writer& out, const RecordMinutia& m, bool with_quality) {
  out.U16(static_cast<uint16_t>((m.type << 14) | m.x));
  out.U16(m.y);
  out.U8(m.angle);
  if (with_quality) out.U8(m.quality);
}

StatusOr<RidgeCounts> DecodeCounts(std::span<const uint8_t> data) {
  if (data.empty()) return InvalidArgument("ridge count extension is empty (needs the method byte)");
  RidgeCounts counts;
  counts.method = data[0];
  size_t n = (data.size() - 1) / 3;
  for (size_t i = 0; i < n; ++i) {
    counts.edges.push_back({data[1 + 3 * i], data[2 + 3 * i], data[3 + 3 * i]});
  }
  counts.trailing.assign(data.begin() + 1 + 3 * n, data.end());
  return counts;
}

std::vector<uint8_t> EncodeCounts(const RidgeCounts& counts) {
  std::vector<uint8_t> data{counts.method};
  for (const RidgeCountEdge& e : counts.edges) {
    data.push_back(e.from);
    data.push_back(e.to);
    data.push_back(e.count);
  }
  data.insert(data.end(), counts.trailing.begin(), counts.trailing.end());
  return data;
}

// The extended data area of one view: a u16 total, then blocks of
// (type u16, length u16, data). `length_includes_header` is false only for
// ISO 19794-2:2005, whose block length counts the data alone.
Status ReadExtensions(Reader& in, bool length_includes_header, FingerView& view) {
  ASSIGN_OR_RETURN(uint16_t total, in.U16("extended data length"));
  const size_t start = in.offset();
  ASSIGN_OR_RETURN(auto area, in.Bytes(total, "extended data area"));
  Reader ext(area, start);
  while (ext.remaining() > 0) {
    const size_t at = ext.offset();
    ASSIGN_OR_RETURN(uint16_t type, ext.U16("extension type"));
    ASSIGN_OR_RETURN(uint16_t length, ext.U16("extension length"));
    size_t data_len = length;
    if (length_includes_header) {
      if (length < 4) {
        return InvalidArgument("extension at offset " + std::to_string(at) + " declares length " +
                               std::to_string(length) + ", less than its 4-byte header");
      }
      data_len = length - 4;
    }
    ASSIGN_OR_RETURN(auto data, ext.Bytes(data_len, "extension data"));
    if (type == 0x0001 && !view.counts) {
      auto counts = DecodeCounts(data);
      if (!counts.ok()) return counts.status().WithContext("extension at offset " + std::to_string(at));
      view.counts = std::move(*counts);
    } else {
      view.extensions.push_back({type, std::vector<uint8_t>(data.begin(), data.end())});
    }
  }
  return Status::Ok();
}

Status WriteExtensions(Writer& out, bool length_includes_header, const FingerView& view) {
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> blocks;
  if (view.counts) blocks.emplace_back(0x0001, EncodeCounts(*view.counts));
  for (const Extension& e : view.extensions) blocks.emplace_back(e.type, e.data);
  size_t total = 0;
  for (const auto& [type, data] : blocks) {
    size_t length = data.size() + (length_includes_header ? 4 : 0);
    if (length > 0xffff) return InvalidArgument("extension block of " + std::to_string(length) + " bytes");
    total += data.size() + 4;
  }
  if (total > 0xffff) return InvalidArgument("extended data area of " + std::to_string(total) + " bytes");
  out.U16(static_cast<uint16_t>(total));
  for (const auto& [type, data] : blocks) {
    out.U16(type);
    out.U16(static_cast<uint16_t>(data.size() + (length_includes_header ? 4 : 0)));
    out.Bytes(data);
  }
  return Status::Ok();
}

Status CheckMinutiae(const FingerView& view, size_t view_idx) {
  if (view.minutiae.size() > 255) {
    return InvalidArgument(ViewContext(view_idx) + " has " + std::to_string(view.minutiae.size()) +
                           " minutiae; the formats allow 255");
  }
  for (size_t i = 0; i < view.minutiae.size(); ++i) {
    const RecordMinutia& m = view.minutiae[i];
    if (m.type > 2 || m.x > 0x3fff || m.y > 0x3fff) {
      return InvalidArgument(ViewContext(view_idx) + " minutia " + std::to_string(i) +
                             ": type must be 0..2 and coordinates fit 14 bits");
    }
  }
  return Status::Ok();
}

// The record length field must cover the header and must not point past the
// end of the input (that is a truncated record). The records are
// self-delimiting, so parsing then follows the structure: bytes after it are
// ignored, and a structure that runs a few bytes past a too-small length
// field is accepted when the bytes are present (the published ANSI 378-2004
// and 378-2009 samples do this).
StatusOr<std::span<const uint8_t>> Declared(std::span<const uint8_t> bytes, uint64_t length, size_t header) {
  if (length < header) {
    return InvalidArgument("record length field says " + std::to_string(length) + " bytes, less than the " +
                           std::to_string(header) + "-byte header");
  }
  if (length > bytes.size()) {
    return InvalidArgument("truncated record: length field says " + std::to_string(length) + " bytes, input has " +
                           std::to_string(bytes.size()));
  }
  return bytes;
}

// The record after its 8-byte magic and version and a u32 record length
// that must cover `header` bytes, positioned after the length (offset 12).
StatusOr<Reader> RecordAfterU32Length(std::span<const uint8_t> bytes, size_t header) {
  Reader head(bytes);
  RETURN_IF_ERROR(head.Bytes(8, "magic").status());
  ASSIGN_OR_RETURN(uint32_t length, head.U32("record length"));
  ASSIGN_OR_RETURN(auto record, Declared(bytes, length, header));
  Reader in(record);
  (void)in.Bytes(12, "");
  return in;
}

// The magic, the 4-byte version ("030", " 20", ...) with its terminating NUL.
void WriteMagicAndVersion(Writer& out, const char (&version)[4]) {
  out.Bytes(kMagic);
  out.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(version), 4));
}

// Reads `count` finger views with `read_view`, each failure naming its view.
template <typename ReadView>
Status ReadViews(size_t count, TemplateRecord& t, ReadView read_view) {
  for (size_t v = 0; v < count; ++v) {
    FingerView view;
    if (Status s = read_view(view); !s.ok()) return s.WithContext(ViewContext(v));
    t.views.push_back(std::move(view));
  }
  return Status::Ok();
}

// A u8 minutia count, then that many minutiae.
Status ReadMinutiae(Reader& in, bool with_quality, FingerView& view) {
  ASSIGN_OR_RETURN(uint8_t n, in.U8("minutia count"));
  for (size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(RecordMinutia m, ReadMinutia(in, with_quality, i));
    view.minutiae.push_back(m);
  }
  return Status::Ok();
}

void WriteMinutiae(Writer& out, bool with_quality, const FingerView& view) {
  out.U8(static_cast<uint8_t>(view.minutiae.size()));
  for (const RecordMinutia& m : view.minutiae) WriteMinutia(out, m, with_quality);
}

// The u8 finger view count and the reserved byte of the 2004/2005/2009 records.
Status WriteViewCount(Writer& out, const TemplateRecord& t) {
  if (t.views.size() > 255) return InvalidArgument("more than 255 finger views");
  out.U8(static_cast<uint8_t>(t.views.size()));
  out.U8(0);
  return Status::Ok();
}

// ISO 19794-2:2005 and ANSI 378-2004 share the record's image fields and
// the layout of a finger view; they differ in the extension block length
// (`length_includes_header`, see ReadExtensions).
Status ReadImageFields(Reader& in, TemplateRecord& t) {
  ASSIGN_OR_RETURN(uint16_t sensor, in.U16("capture equipment"));
  t.sensor_compliance = static_cast<uint8_t>(sensor >> 12);
  t.sensor_id = sensor & 0x0fff;
  ASSIGN_OR_RETURN(t.width, in.U16("image width"));
  ASSIGN_OR_RETURN(t.height, in.U16("image height"));
  ASSIGN_OR_RETURN(t.resolution_x, in.U16("x resolution"));
  ASSIGN_OR_RETURN(t.resolution_y, in.U16("y resolution"));
  return Status::Ok();
}

void WriteImageFields(Writer& out, const TemplateRecord& t) {
  out.U16(static_cast<uint16_t>(((t.sensor_compliance & 0x0f) << 12) | (t.sensor_id & 0x0fff)));
  out.U16(t.width);
  out.U16(t.height);
  out.U16(t.resolution_x);
  out.U16(t.resolution_y);
}

Status ReadCompactViews(Reader& in, bool length_includes_header, TemplateRecord& t) {
  ASSIGN_OR_RETURN(uint8_t count, in.U8("finger view count"));
  RETURN_IF_ERROR(in.U8("reserved byte").status());
  return ReadViews(count, t, [&](FingerView& view) -> Status {
    ASSIGN_OR_RETURN(view.position, in.U8("finger position"));
    ASSIGN_OR_RETURN(uint8_t vi, in.U8("view number and impression type"));
    view.view = vi >> 4;
    view.scan_type = vi & 0x0f;
    ASSIGN_OR_RETURN(view.quality, in.U8("finger quality"));
    RETURN_IF_ERROR(ReadMinutiae(in, true, view));
    RETURN_IF_ERROR(ReadExtensions(in, length_includes_header, view));
    view.width = t.width;
    view.height = t.height;
    view.resolution_x = t.resolution_x;
    view.resolution_y = t.resolution_y;
    return Status::Ok();
  });
}

Status WriteCompactViews(Writer& out, bool length_includes_header, const TemplateRecord& t) {
  RETURN_IF_ERROR(WriteViewCount(out, t));
  for (size_t v = 0; v < t.views.size(); ++v) {
    const FingerView& view = t.views[v];
    RETURN_IF_ERROR(CheckMinutiae(view, v));
    out.U8(view.position);
    out.U8(static_cast<uint8_t>(((view.view & 0x0f) << 4) | (view.scan_type & 0x0f)));
    out.U8(view.quality);
    WriteMinutiae(out, true, view);
    RETURN_IF_ERROR(WriteExtensions(out, length_includes_header, view));
  }
  return Status::Ok();
}

// ---- ISO/IEC 19794-2:2005 -------------------------------------------------

StatusOr<TemplateRecord> DecodeIso2005(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(Reader in, RecordAfterU32Length(bytes, 24));
  TemplateRecord t;
  t.format = TemplateFormat::kIso19794_2_2005;
  t.version_lead = bytes[4] == '0' ? '0' : 0;
  RETURN_IF_ERROR(ReadImageFields(in, t));
  RETURN_IF_ERROR(ReadCompactViews(in, false, t));
  return t;
}

StatusOr<std::vector<uint8_t>> EncodeIso2005(const TemplateRecord& t) {
  Writer out;
  WriteMagicAndVersion(out, t.version_lead == '0' ? "020" : " 20");
  out.U32(0);
  WriteImageFields(out, t);
  RETURN_IF_ERROR(WriteCompactViews(out, false, t));
  out.PutU32At(8, static_cast<uint32_t>(out.size()));
  return out.Take();
}

// ---- ANSI/INCITS 378-2004 -------------------------------------------------

StatusOr<TemplateRecord> DecodeAnsi2004(std::span<const uint8_t> bytes) {
  Reader head(bytes);
  RETURN_IF_ERROR(head.Bytes(8, "magic").status());
  ASSIGN_OR_RETURN(uint16_t short_length, head.U16("record length"));
  uint64_t length = short_length;
  size_t header = 26;
  if (short_length == 0) {
    ASSIGN_OR_RETURN(uint32_t long_length, head.U32("extended record length"));
    length = long_length;
    header = 30;
  }
  ASSIGN_OR_RETURN(auto record, Declared(bytes, length, header));
  Reader in(record);
  (void)in.Bytes(header - 16, "");
  TemplateRecord t;
  t.format = TemplateFormat::kAnsi378_2004;
  t.version_lead = bytes[4] == ' ' ? ' ' : 0;
  ASSIGN_OR_RETURN(t.vendor_id, in.U16("CBEFF product owner"));
  ASSIGN_OR_RETURN(t.subformat, in.U16("CBEFF product type"));
  RETURN_IF_ERROR(ReadImageFields(in, t));
  RETURN_IF_ERROR(ReadCompactViews(in, true, t));
  return t;
}

StatusOr<std::vector<uint8_t>> EncodeAnsi2004(const TemplateRecord& t) {
  Writer body;
  body.U16(t.vendor_id);
  body.U16(t.subformat);
  WriteImageFields(body, t);
  RETURN_IF_ERROR(WriteCompactViews(body, true, t));
  std::vector<uint8_t> payload = body.Take();
  Writer out;
  WriteMagicAndVersion(out, t.version_lead == ' ' ? " 20" : "020");
  size_t length = 10 + payload.size();
  if (length <= 0xffff) {
    out.U16(static_cast<uint16_t>(length));
  } else {
    out.U16(0);
    out.U32(static_cast<uint32_t>(length + 4));
  }
  out.Bytes(payload);
  return out.Take();
}

// ---- ANSI/INCITS 378-2009 and 378-2009/AM1 ---------------------------------

StatusOr<TemplateRecord> DecodeAnsi2009(std::span<const uint8_t> bytes, TemplateFormat format) {
  ASSIGN_OR_RETURN(Reader in, RecordAfterU32Length(bytes, 21));
  TemplateRecord t;
  t.format = format;
  ASSIGN_OR_RETURN(t.vendor_id, in.U16("CBEFF product owner"));
  ASSIGN_OR_RETURN(t.subformat, in.U16("CBEFF product type"));
  ASSIGN_OR_RETURN(t.sensor_compliance, in.U8("capture equipment compliance"));
  ASSIGN_OR_RETURN(t.sensor_id, in.U16("capture equipment id"));
  ASSIGN_OR_RETURN(uint8_t count, in.U8("finger view count"));
  RETURN_IF_ERROR(in.U8("reserved byte").status());
  RETURN_IF_ERROR(ReadViews(count, t, [&](FingerView& view) -> Status {
    ASSIGN_OR_RETURN(view.position, in.U8("finger position"));
    ASSIGN_OR_RETURN(view.view, in.U8("view number"));
    ASSIGN_OR_RETURN(view.scan_type, in.U8("impression type"));
    ASSIGN_OR_RETURN(view.quality, in.U8("finger quality"));
    ASSIGN_OR_RETURN(view.quality_vendor, in.U16("quality algorithm owner"));
    ASSIGN_OR_RETURN(view.quality_algorithm, in.U16("quality algorithm"));
    ASSIGN_OR_RETURN(view.width, in.U16("image width"));
    ASSIGN_OR_RETURN(view.height, in.U16("image height"));
    ASSIGN_OR_RETURN(view.resolution_x, in.U16("x resolution"));
    ASSIGN_OR_RETURN(view.resolution_y, in.U16("y resolution"));
    RETURN_IF_ERROR(ReadMinutiae(in, true, view));
    return ReadExtensions(in, true, view);
  }));
  return t;
}

StatusOr<std::vector<uint8_t>> EncodeAnsi2009(const TemplateRecord& t) {
  Writer out;
  WriteMagicAndVersion(out, t.format == TemplateFormat::kAnsi378_2009Am1 ? "035" : "030");
  out.U32(0);
  out.U16(t.vendor_id);
  out.U16(t.subformat);
  out.U8(t.sensor_compliance);
  out.U16(t.sensor_id);
  RETURN_IF_ERROR(WriteViewCount(out, t));
  for (size_t v = 0; v < t.views.size(); ++v) {
    const FingerView& view = t.views[v];
    RETURN_IF_ERROR(CheckMinutiae(view, v));
    out.U8(view.position);
    out.U8(view.view);
    out.U8(view.scan_type);
    out.U8(view.quality);
    out.U16(view.quality_vendor);
    out.U16(view.quality_algorithm);
    out.U16(view.width);
    out.U16(view.height);
    out.U16(view.resolution_x);
    out.U16(view.resolution_y);
    WriteMinutiae(out, true, view);
    RETURN_IF_ERROR(WriteExtensions(out, true, view));
  }
  out.PutU32At(8, static_cast<uint32_t>(out.size()));
  return out.Take();
}

// ---- ISO/IEC 19794-2:2011 -------------------------------------------------

StatusOr<TemplateRecord> DecodeIso2011(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(Reader in, RecordAfterU32Length(bytes, 15));
  TemplateRecord t;
  t.format = TemplateFormat::kIso19794_2_2011;
  ASSIGN_OR_RETURN(uint16_t count, in.U16("representation count"));
  ASSIGN_OR_RETURN(uint8_t cert_flag, in.U8("certification flag"));
  t.has_certificates = cert_flag != 0;
  RETURN_IF_ERROR(ReadViews(count, t, [&](FingerView& view) -> Status {
    const size_t at = in.offset();
    ASSIGN_OR_RETURN(uint32_t rep_length, in.U32("representation length"));
    if (rep_length < 4) return InvalidArgument("representation length " + std::to_string(rep_length) + " < 4");
    ASSIGN_OR_RETURN(auto rep_bytes, in.Bytes(rep_length - 4, "representation body"));
    Reader r(rep_bytes, at + 4);
    ASSIGN_OR_RETURN(view.datetime.year, r.U16("capture year"));
    ASSIGN_OR_RETURN(view.datetime.month, r.U8("capture month"));
    ASSIGN_OR_RETURN(view.datetime.day, r.U8("capture day"));
    ASSIGN_OR_RETURN(view.datetime.hour, r.U8("capture hour"));
    ASSIGN_OR_RETURN(view.datetime.minute, r.U8("capture minute"));
    ASSIGN_OR_RETURN(view.datetime.second, r.U8("capture second"));
    ASSIGN_OR_RETURN(view.datetime.millisecond, r.U16("capture millisecond"));
    ASSIGN_OR_RETURN(view.sensor_type, r.U8("capture device technology"));
    ASSIGN_OR_RETURN(view.sensor_vendor, r.U16("capture device vendor"));
    ASSIGN_OR_RETURN(view.sensor_id, r.U16("capture device type"));
    ASSIGN_OR_RETURN(uint8_t nq, r.U8("quality record count"));
    for (size_t i = 0; i < nq; ++i) {
      QualityRecord q;
      ASSIGN_OR_RETURN(q.quality, r.U8("quality record"));
      ASSIGN_OR_RETURN(q.vendor, r.U16("quality record"));
      ASSIGN_OR_RETURN(q.algorithm, r.U16("quality record"));
      view.quality_records.push_back(q);
    }
    if (t.has_certificates) {
      ASSIGN_OR_RETURN(uint8_t nc, r.U8("certification record count"));
      for (size_t i = 0; i < nc; ++i) {
        Certificate c;
        ASSIGN_OR_RETURN(c.authority, r.U16("certification record"));
        ASSIGN_OR_RETURN(c.scheme, r.U8("certification record"));
        view.certificates.push_back(c);
      }
    }
    ASSIGN_OR_RETURN(view.position, r.U8("finger position"));
    ASSIGN_OR_RETURN(view.view, r.U8("view number"));
    ASSIGN_OR_RETURN(view.resolution_x, r.U16("x resolution"));
    ASSIGN_OR_RETURN(view.resolution_y, r.U16("y resolution"));
    ASSIGN_OR_RETURN(view.scan_type, r.U8("impression type"));
    ASSIGN_OR_RETURN(view.width, r.U16("image width"));
    ASSIGN_OR_RETURN(view.height, r.U16("image height"));
    ASSIGN_OR_RETURN(uint8_t flags, r.U8("minutia field length and ending type"));
    const uint8_t minutia_size = flags >> 4;
    if (minutia_size != 5 && minutia_size != 6) {
      return InvalidArgument("minutia field length is " + std::to_string(minutia_size) +
                             " bytes at offset " + std::to_string(r.offset() - 1) + "; must be 5 or 6");
    }
    view.minutia_quality = minutia_size == 6;
    view.ending_type = flags & 0x0f;
    RETURN_IF_ERROR(ReadMinutiae(r, view.minutia_quality, view));
    RETURN_IF_ERROR(ReadExtensions(r, true, view));
    if (r.remaining() != 0) {
      return InvalidArgument("representation length " + std::to_string(rep_length) + " leaves " +
                             std::to_string(r.remaining()) + " unexplained bytes at offset " +
                             std::to_string(r.offset()));
    }
    view.quality = view.quality_records.empty() ? 255 : view.quality_records.front().quality;
    return Status::Ok();
  }));
  return t;
}

StatusOr<std::vector<uint8_t>> EncodeIso2011(const TemplateRecord& t) {
  Writer out;
  WriteMagicAndVersion(out, "030");
  out.U32(0);
  if (t.views.size() > 0xffff) return InvalidArgument("too many representations");
  out.U16(static_cast<uint16_t>(t.views.size()));
  out.U8(t.has_certificates ? 1 : 0);
  for (size_t v = 0; v < t.views.size(); ++v) {
    const FingerView& view = t.views[v];
    RETURN_IF_ERROR(CheckMinutiae(view, v));
    if (view.quality_records.size() > 255 || view.certificates.size() > 255) {
      return InvalidArgument(ViewContext(v) + " has more than 255 quality or certification records");
    }
    if (!t.has_certificates && !view.certificates.empty()) {
      return InvalidArgument(ViewContext(v) + " has certificates but the record's certification flag is off");
    }
    const size_t start = out.size();
    out.U32(0);
    out.U16(view.datetime.year);
    out.U8(view.datetime.month);
    out.U8(view.datetime.day);
    out.U8(view.datetime.hour);
    out.U8(view.datetime.minute);
    out.U8(view.datetime.second);
    out.U16(view.datetime.millisecond);
    out.U8(view.sensor_type);
    out.U16(view.sensor_vendor);
    out.U16(view.sensor_id);
    out.U8(static_cast<uint8_t>(view.quality_records.size()));
    for (const QualityRecord& q : view.quality_records) {
      out.U8(q.quality);
      out.U16(q.vendor);
      out.U16(q.algorithm);
    }
    if (t.has_certificates) {
      out.U8(static_cast<uint8_t>(view.certificates.size()));
      for (const Certificate& c : view.certificates) {
        out.U16(c.authority);
        out.U8(c.scheme);
      }
    }
    out.U8(view.position);
    out.U8(view.view);
    out.U16(view.resolution_x);
    out.U16(view.resolution_y);
    out.U8(view.scan_type);
    out.U16(view.width);
    out.U16(view.height);
    out.U8(static_cast<uint8_t>(((view.minutia_quality ? 6 : 5) << 4) | (view.ending_type & 0x0f)));
    WriteMinutiae(out, view.minutia_quality, view);
    RETURN_IF_ERROR(WriteExtensions(out, true, view));
    out.PutU32At(start, static_cast<uint32_t>(out.size() - start));
  }
  out.PutU32At(8, static_cast<uint32_t>(out.size()));
  return out.Take();
}

uint32_t BigU32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// ISO 2011 and ANSI 2009 share the "030" version. ISO 2011's record length
// is exactly 15 plus the sum of its representation lengths.
bool LooksLikeIso2011(std::span<const uint8_t> b) {
  if (b.size() < 15) return false;
  uint64_t total = BigU32(b, 8);
  size_t count = (size_t{b[12]} << 8) | b[13];
  size_t at = 15;
  uint64_t sum = 0;
  for (size_t i = 0; i < count; ++i) {
    if (at + 4 > b.size()) return false;
    uint64_t len = BigU32(b, at);
    if (len < 34) return false;
    sum += len;
    at += len;
  }
  return total == 15 + sum;
}

}  // namespace

std::string_view TemplateFormatName(TemplateFormat format) {
  switch (format) {
    case TemplateFormat::kIso19794_2_2005: return "iso19794-2:2005";
    case TemplateFormat::kIso19794_2_2011: return "iso19794-2:2011";
    case TemplateFormat::kAnsi378_2004: return "ansi378-2004";
    case TemplateFormat::kAnsi378_2009: return "ansi378-2009";
    case TemplateFormat::kAnsi378_2009Am1: return "ansi378-2009am1";
  }
  return "unknown";
}

StatusOr<TemplateFormat> ParseTemplateFormatName(std::string_view name) {
  for (TemplateFormat f : {TemplateFormat::kIso19794_2_2005, TemplateFormat::kIso19794_2_2011,
                           TemplateFormat::kAnsi378_2004, TemplateFormat::kAnsi378_2009,
                           TemplateFormat::kAnsi378_2009Am1}) {
    if (TemplateFormatName(f) == name) return f;
  }
  return InvalidArgument("unknown template format '" + std::string(name) +
                         "'; use iso19794-2:2005, iso19794-2:2011, ansi378-2004, ansi378-2009 or ansi378-2009am1");
}

bool SensorCertified(const TemplateRecord& record) {
  switch (record.format) {
    case TemplateFormat::kAnsi378_2009:
    case TemplateFormat::kAnsi378_2009Am1: return (record.sensor_compliance & 0x80) != 0;
    case TemplateFormat::kIso19794_2_2011: return false;
    default: return (record.sensor_compliance & 0x08) != 0;
  }
}

StatusOr<TemplateFormat> DetectTemplateFormat(std::span<const uint8_t> b) {
  if (b.size() < 12 && (b.size() < 4 || std::memcmp(b.data(), kMagic, 4) == 0)) {
    return InvalidArgument("truncated record: " + std::to_string(b.size()) +
                           " bytes is too short for a minutiae record header");
  }
  if (std::memcmp(b.data(), kMagic, 4) != 0) {
    return InvalidArgument("not a minutiae record: bytes 0..3 must be \"FMR\\0\"");
  }
  if (std::memcmp(b.data() + 4, " 20", 4) == 0 || std::memcmp(b.data() + 4, "020", 4) == 0) {
    uint16_t first = static_cast<uint16_t>((b[8] << 8) | b[9]);
    if (first >= 26) return TemplateFormat::kAnsi378_2004;
    if (first > 0) return TemplateFormat::kIso19794_2_2005;
    uint16_t second = static_cast<uint16_t>((b[10] << 8) | b[11]);
    return second >= 24 ? TemplateFormat::kIso19794_2_2005 : TemplateFormat::kAnsi378_2004;
  }
  if (std::memcmp(b.data() + 4, "030", 4) == 0) {
    return LooksLikeIso2011(b) ? TemplateFormat::kIso19794_2_2011 : TemplateFormat::kAnsi378_2009;
  }
  if (std::memcmp(b.data() + 4, "035", 4) == 0) return TemplateFormat::kAnsi378_2009Am1;
  return InvalidArgument("unsupported minutiae record version at bytes 4..7 (expected \" 20\", \"030\" or \"035\")");
}

StatusOr<TemplateRecord> DecodeTemplate(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(TemplateFormat format, DetectTemplateFormat(bytes));
  return DecodeTemplate(bytes, format);
}

StatusOr<TemplateRecord> DecodeTemplate(std::span<const uint8_t> bytes, TemplateFormat format) {
  if (bytes.size() < 12) {
    return InvalidArgument("truncated record: " + std::to_string(bytes.size()) +
                           " bytes is too short for a minutiae record header");
  }
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return InvalidArgument("not a minutiae record: bytes 0..3 must be \"FMR\\0\"");
  }
  StatusOr<TemplateRecord> out = InvalidArgument("unreachable");
  switch (format) {
    case TemplateFormat::kIso19794_2_2005: out = DecodeIso2005(bytes); break;
    case TemplateFormat::kIso19794_2_2011: out = DecodeIso2011(bytes); break;
    case TemplateFormat::kAnsi378_2004: out = DecodeAnsi2004(bytes); break;
    case TemplateFormat::kAnsi378_2009:
    case TemplateFormat::kAnsi378_2009Am1: out = DecodeAnsi2009(bytes, format); break;
  }
  if (!out.ok()) return out.status().WithContext(std::string(TemplateFormatName(format)));
  return out;
}

StatusOr<std::vector<uint8_t>> EncodeTemplate(const TemplateRecord& record) {
  switch (record.format) {
    case TemplateFormat::kIso19794_2_2005: return EncodeIso2005(record);
    case TemplateFormat::kIso19794_2_2011: return EncodeIso2011(record);
    case TemplateFormat::kAnsi378_2004: return EncodeAnsi2004(record);
    case TemplateFormat::kAnsi378_2009:
    case TemplateFormat::kAnsi378_2009Am1: return EncodeAnsi2009(record);
  }
  return Internal("unknown template format");
}

}  // namespace ektp::bio
