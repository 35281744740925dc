#include "bio/template_json.h"

#include <string>

#include <nlohmann/json.hpp>

namespace ektp::bio {
namespace {

using nlohmann::json;

std::string Base64(const std::vector<uint8_t>& data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Coded(const char* const* names, size_t n, unsigned code) {
  if (code < n && names[code] != nullptr) return names[code];
  return "CODE_" + std::to_string(code);
}

std::string PositionName(unsigned code) {
  static const char* const kNames[] = {
      "UNKNOWN",     "RIGHT_THUMB", "RIGHT_INDEX", "RIGHT_MIDDLE", "RIGHT_RING", "RIGHT_LITTLE",
      "LEFT_THUMB",  "LEFT_INDEX",  "LEFT_MIDDLE", "LEFT_RING",    "LEFT_LITTLE"};
  return Coded(kNames, std::size(kNames), code);
}

std::string ScanTypeName(TemplateFormat format, unsigned code) {
  switch (code) {
    case 0: return "LIVE_PLAIN";
    case 1: return "LIVE_ROLLED";
    case 2: return "NONLIVE_PLAIN";
    case 3: return "NONLIVE_ROLLED";
    default: break;
  }
  if (format == TemplateFormat::kIso19794_2_2011) {
    static const char* const kIso[] = {nullptr, nullptr, nullptr, nullptr, "LATENT_IMPRESSION", "LATENT_TRACING",
                                       "LATENT_PHOTO", "LATENT_LIFT", "SWIPE", "VERTICAL_ROLL"};
    if (code == 24) return "LIVE_CONTACTLESS";
    if (code == 28) return "OTHER";
    if (code == 29) return "UNKNOWN";
    return Coded(kIso, std::size(kIso), code);
  }
  if (format == TemplateFormat::kAnsi378_2009 || format == TemplateFormat::kAnsi378_2009Am1) {
    switch (code) {
      case 8: return "LIVE_SWIPE";
      case 10: return "LIVE_PALM";
      case 11: return "NONLIVE_PALM";
      case 20: return "LIVE_OPTICAL_CONTACT_PLAIN";
      case 21: return "LIVE_OPTICAL_CONTACT_ROLLED";
      case 22: return "LIVE_NONOPTICAL_CONTACT_PLAIN";
      case 23: return "LIVE_NONOPTICAL_CONTACT_ROLLED";
      case 24: return "LIVE_OPTICAL_CONTACTLESS_PLAIN";
      case 25: return "LIVE_OPTICAL_CONTACTLESS_ROLLED";
      case 26: return "LIVE_NONOPTICAL_CONTACTLESS_PLAIN";
      case 27: return "LIVE_NONOPTICAL_CONTACTLESS_ROLLED";
      case 28: return "OTHER";
      case 29: return "UNKNOWN";
      default: return "CODE_" + std::to_string(code);
    }
  }
  if (code == 8) return "SWIPE";
  if (code == 9) return "LIVE_CONTACTLESS";
  return "CODE_" + std::to_string(code);
}

std::string MinutiaTypeName(TemplateFormat format, unsigned code) {
  bool ansi2009 = format == TemplateFormat::kAnsi378_2009 || format == TemplateFormat::kAnsi378_2009Am1;
  switch (code) {
    case 0: return ansi2009 ? "EITHER" : "OTHER";
    case 1: return "ENDING";
    case 2: return "BIFURCATION";
    default: return "CODE_" + std::to_string(code);
  }
}

std::string SensorTypeName(unsigned code) {
  static const char* const kNames[] = {"UNKNOWN",
                                       "OPTICAL_WHITE_TIR",
                                       "OPTICAL_WHITE_DIRECT",
                                       "OPTICAL_WHITE_CONTACTLESS",
                                       "OPTICAL_MONOCHROMATIC_VISIBLE_TIR",
                                       "OPTICAL_MONOCHROMATIC_VISIBLE_DIRECT",
                                       "OPTICAL_MONOCHROMATIC_VISIBLE_CONTACTLESS",
                                       "OPTICAL_MONOCHROMATIC_INFRARED_TIR",
                                       "OPTICAL_MONOCHROMATIC_INFRARED_DIRECT",
                                       "OPTICAL_MONOCHROMATIC_INFRARED_CONTACTLESS",
                                       "OPTICAL_MULTISPECTRAL_TIR",
                                       "OPTICAL_MULTISPECTRAL_DIRECT",
                                       "OPTICAL_MULTISPECTRAL_CONTACTLESS",
                                       "ELECTRO_LUMINESCENT",
                                       "CAPACITIVE",
                                       "RADIO_FREQUENCY",
                                       "THERMAL",
                                       "PRESSURE",
                                       "ULTRASOUND",
                                       "MECHANICAL",
                                       "GLASS_FIBER"};
  return Coded(kNames, std::size(kNames), code);
}

json ViewJson(const TemplateRecord& record, const FingerView& view) {
  const TemplateFormat format = record.format;
  json out = json::object();
  if (format == TemplateFormat::kIso19794_2_2011) {
    out["datetime"] = {{"year", view.datetime.year},     {"month", view.datetime.month},
                       {"day", view.datetime.day},       {"hour", view.datetime.hour},
                       {"minute", view.datetime.minute}, {"second", view.datetime.second},
                       {"millisecond", view.datetime.millisecond}};
    out["sensorType"] = SensorTypeName(view.sensor_type);
    out["sensorVendor"] = view.sensor_vendor;
    out["sensorId"] = view.sensor_id;
    out["qrecords"] = json::array();
    for (const QualityRecord& q : view.quality_records) {
      out["qrecords"].push_back({{"quality", q.quality}, {"vendor", q.vendor}, {"algorithm", q.algorithm}});
    }
    out["certificates"] = json::array();
    for (const Certificate& c : view.certificates) {
      out["certificates"].push_back({{"authorityId", c.authority}, {"scheme", c.scheme}});
    }
    out["endingType"] = view.ending_type == 0 ? "VALLEY_SKELETON_BIFURCATION" : "RIDGE_SKELETON_ENDPOINT";
    out["zones"] = nullptr;
  } else {
    out["quality"] = view.quality;
  }
  out["position"] = PositionName(view.position);
  out["view"] = view.view;
  out["scanType"] = ScanTypeName(format, view.scan_type);
  if (format == TemplateFormat::kAnsi378_2009 || format == TemplateFormat::kAnsi378_2009Am1) {
    out["qualityVendorId"] = view.quality_vendor;
    out["qualityAlgorithmId"] = view.quality_algorithm;
  }
  if (format == TemplateFormat::kAnsi378_2009 || format == TemplateFormat::kAnsi378_2009Am1 ||
      format == TemplateFormat::kIso19794_2_2011) {
    out["width"] = view.width;
    out["height"] = view.height;
    out["resolutionX"] = view.resolution_x;
    out["resolutionY"] = view.resolution_y;
  }
  if (format == TemplateFormat::kIso19794_2_2005) out["zones"] = nullptr;
  out["minutiae"] = json::array();
  for (const RecordMinutia& m : view.minutiae) {
    out["minutiae"].push_back({{"type", MinutiaTypeName(format, m.type)},
                               {"positionX", m.x},
                               {"positionY", m.y},
                               {"angle", m.angle},
                               {"quality", m.quality}});
  }
  if (view.counts) {
    static const char* const kMethods[] = {"CUSTOM", "QUADRANTS", "OCTANTS"};
    json edges = json::array();
    for (const RidgeCountEdge& e : view.counts->edges) {
      edges.push_back({{"from", e.from}, {"to", e.to}, {"count", e.count}});
    }
    out["counts"] = {{"type", Coded(kMethods, std::size(kMethods), view.counts->method)}, {"edges", edges}};
  } else {
    out["counts"] = nullptr;
  }
  out["coredelta"] = nullptr;
  out["extensions"] = json::array();
  for (const Extension& e : view.extensions) {
    out["extensions"].push_back({{"type", e.type}, {"data", Base64(e.data)}});
  }
  return out;
}

}  // namespace

nlohmann::json TemplateToJson(const TemplateRecord& record) {
  json out = json::object();
  const TemplateFormat format = record.format;
  if (format == TemplateFormat::kAnsi378_2004 || format == TemplateFormat::kAnsi378_2009 ||
      format == TemplateFormat::kAnsi378_2009Am1) {
    out["vendorId"] = record.vendor_id;
    out["subformat"] = record.subformat;
  }
  if (format != TemplateFormat::kIso19794_2_2011) {
    out["sensorCertified"] = SensorCertified(record);
    out["sensorId"] = record.sensor_id;
  }
  if (format == TemplateFormat::kAnsi378_2004 || format == TemplateFormat::kIso19794_2_2005) {
    out["width"] = record.width;
    out["height"] = record.height;
    out["resolutionX"] = record.resolution_x;
    out["resolutionY"] = record.resolution_y;
  }
  out["fingerprints"] = json::array();
  for (const FingerView& view : record.views) out["fingerprints"].push_back(ViewJson(record, view));
  return out;
}

}  // namespace ektp::bio
