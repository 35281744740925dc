#include "bio/template.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bio/template_json.h"
#include "core/status_matchers.h"
#include "core/testing.h"

namespace ektp::bio {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

std::filesystem::path SharedData() {
  return ::ektp::testing::SharedDataDir();
}

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct Vector {
  const char* stem;
  TemplateFormat format;
};

const Vector kVectors[] = {
    {"iso19794p2v2005-sample", TemplateFormat::kIso19794_2_2005},
    {"iso19794p2v2011-sample", TemplateFormat::kIso19794_2_2011},
    {"ansi378v2004-sample", TemplateFormat::kAnsi378_2004},
    {"ansi378v2009-sample", TemplateFormat::kAnsi378_2009},
    {"ansi378v2009am1-sample", TemplateFormat::kAnsi378_2009Am1},
};

class VectorTest : public ::testing::TestWithParam<Vector> {
 protected:
  std::filesystem::path Dir() { return SharedData() / "iso19794-vectors"; }
};

TEST_P(VectorTest, EveryDecodedFieldEqualsTheJson) {
  const Vector& v = GetParam();
  auto bytes = ReadBytes(Dir() / (std::string(v.stem) + ".dat"));
  ASSERT_FALSE(bytes.empty()) << "missing vector " << v.stem;
  auto format = DetectTemplateFormat(bytes);
  ASSERT_OK(format);
  EXPECT_EQ(*format, v.format);
  auto record = DecodeTemplate(bytes);
  ASSERT_OK(record);
  std::ifstream json_in(Dir() / (std::string(v.stem) + ".json"));
  nlohmann::json expected = nlohmann::json::parse(json_in);
  nlohmann::json actual = TemplateToJson(*record);
  EXPECT_EQ(actual, expected) << "diff: " << nlohmann::json::diff(expected, actual).dump(1);
}

TEST_P(VectorTest, EncodeReproducesTheRecord) {
  const Vector& v = GetParam();
  auto bytes = ReadBytes(Dir() / (std::string(v.stem) + ".dat"));
  auto record = DecodeTemplate(bytes);
  ASSERT_OK(record);
  auto encoded = EncodeTemplate(*record);
  ASSERT_OK(encoded);
  auto again = DecodeTemplate(*encoded);
  ASSERT_OK(again);
  EXPECT_EQ(*again, *record);
  // Byte for byte, apart from the record length field: two of the published
  // samples declare a length 1-2 bytes short of their content.
  ASSERT_EQ(encoded->size(), bytes.size());
  const size_t length_bytes = GetParam().format == TemplateFormat::kAnsi378_2004 ? 2 : 4;
  for (size_t i = 8; i < 8 + length_bytes; ++i) (*encoded)[i] = bytes[i] = 0;
  EXPECT_EQ(*encoded, bytes);
}

TEST_P(VectorTest, TrailingBytesAreIgnored) {
  auto bytes = ReadBytes(Dir() / (std::string(GetParam().stem) + ".dat"));
  auto clean = DecodeTemplate(bytes);
  ASSERT_OK(clean);
  bytes.insert(bytes.end(), {0xde, 0xad, 0xbe, 0xef, 0x00});
  auto padded = DecodeTemplate(bytes, GetParam().format);
  ASSERT_OK(padded);
  EXPECT_EQ(*padded, *clean);
}

TEST_P(VectorTest, EveryTruncationIsRefused) {
  auto bytes = ReadBytes(Dir() / (std::string(GetParam().stem) + ".dat"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::span<const uint8_t> cut(bytes.data(), n);
    auto record = DecodeTemplate(cut, GetParam().format);
    EXPECT_THAT(record, StatusIs(StatusCode::kInvalidArgument, HasSubstr("truncated"))) << "length " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, VectorTest, ::testing::ValuesIn(kVectors),
                         [](const auto& info) { return std::string(TemplateFormatName(info.param.format)).substr(0, 3) +
                                                       std::to_string(info.index); });

TEST(TemplateTest, FvcTemplatesDecodeAsIso2005) {
  auto bytes = ReadBytes(SharedData() / "fvc2002" / "DB1_B" / "101_1.iso");
  auto record = DecodeTemplate(bytes);
  ASSERT_OK(record);
  EXPECT_EQ(record->format, TemplateFormat::kIso19794_2_2005);
  EXPECT_EQ(record->width, 300);
  EXPECT_EQ(record->height, 400);
  ASSERT_EQ(record->views.size(), 1u);
  EXPECT_EQ(record->views[0].minutiae.size(), 25u);
}

TEST(TemplateTest, RefusesWrongMagic) {
  std::vector<uint8_t> bytes(40, 0);
  EXPECT_THAT(DecodeTemplate(bytes), StatusIs(StatusCode::kInvalidArgument, HasSubstr("FMR")));
  EXPECT_THAT(DecodeTemplate(bytes, TemplateFormat::kAnsi378_2009),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("FMR")));
}

TEST(TemplateTest, RefusesUnknownVersion) {
  std::vector<uint8_t> bytes = {'F', 'M', 'R', 0, '0', '9', '9', 0, 0, 0, 0, 30};
  bytes.resize(30);
  EXPECT_THAT(DecodeTemplate(bytes), StatusIs(StatusCode::kInvalidArgument, HasSubstr("version")));
}

TEST(TemplateTest, RefusesLengthBelowHeader) {
  auto bytes = ReadBytes(SharedData() / "iso19794-vectors" / "iso19794p2v2005-sample.dat");
  bytes[8] = bytes[9] = bytes[10] = 0;
  bytes[11] = 10;
  EXPECT_THAT(DecodeTemplate(bytes, TemplateFormat::kIso19794_2_2005),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("less than the 24-byte header")));
}

TEST(TemplateTest, RefusesReservedMinutiaType) {
  auto bytes = ReadBytes(SharedData() / "iso19794-vectors" / "iso19794p2v2005-sample.dat");
  bytes[28] |= 0xc0;  // first minutia of the first view
  EXPECT_THAT(DecodeTemplate(bytes), StatusIs(StatusCode::kInvalidArgument, HasSubstr("reserved type code 3")));
}

TEST(TemplateTest, RefusesExtensionShorterThanHeader) {
  auto bytes = ReadBytes(SharedData() / "iso19794-vectors" / "ansi378v2009-sample.dat");
  // The last view's only extension block: type 0x0001, length 0x000b.
  ASSERT_EQ(bytes[bytes.size() - 8], 0x0b);
  bytes[bytes.size() - 8] = 2;
  EXPECT_THAT(DecodeTemplate(bytes), StatusIs(StatusCode::kInvalidArgument, HasSubstr("less than its 4-byte header")));
}

TEST(TemplateTest, EncodeRefusesOutOfRangeValues) {
  TemplateRecord record;
  record.views.resize(1);
  record.views[0].minutiae.push_back({kMinutiaEnding, 0x4000, 1, 0, 0});
  EXPECT_THAT(EncodeTemplate(record), StatusIs(StatusCode::kInvalidArgument, HasSubstr("14 bits")));
  record.views[0].minutiae.assign(256, RecordMinutia{});
  EXPECT_THAT(EncodeTemplate(record), StatusIs(StatusCode::kInvalidArgument, HasSubstr("255")));
}

TEST(TemplateTest, RoundTripsEveryFormatAndLongAnsiLength) {
  TemplateRecord record;
  record.width = 300;
  record.height = 400;
  record.resolution_x = record.resolution_y = 197;
  FingerView view;
  view.position = 2;
  view.width = 300;
  view.height = 400;
  view.resolution_x = view.resolution_y = 197;
  for (int i = 0; i < 200; ++i) {
    view.minutiae.push_back({static_cast<uint8_t>(i % 3), static_cast<uint16_t>(i), static_cast<uint16_t>(2 * i),
                             static_cast<uint8_t>(i % 180), 60});
  }
  view.counts = RidgeCounts{1, {{0, 1, 3}}, {}};
  view.extensions.push_back({0x0201, {1, 2, 3}});
  for (int v = 0; v < 60; ++v) {  // > 64 KiB in total: ANSI 2004 needs its 6-byte length form
    view.view = static_cast<uint8_t>(v % 16);
    view.position = static_cast<uint8_t>(v / 16);
    record.views.push_back(view);
  }
  for (TemplateFormat f : {TemplateFormat::kIso19794_2_2005, TemplateFormat::kIso19794_2_2011,
                           TemplateFormat::kAnsi378_2004, TemplateFormat::kAnsi378_2009,
                           TemplateFormat::kAnsi378_2009Am1}) {
    TemplateRecord r = record;
    r.format = f;
    auto bytes = EncodeTemplate(r);
    ASSERT_OK(bytes);
    auto detected = DetectTemplateFormat(*bytes);
    ASSERT_OK(detected);
    EXPECT_EQ(*detected, f) << TemplateFormatName(f);
    auto back = DecodeTemplate(*bytes);
    ASSERT_OK(back);
    auto again = EncodeTemplate(*back);
    ASSERT_OK(again);
    EXPECT_EQ(*again, *bytes) << TemplateFormatName(f);
    EXPECT_EQ(back->views.size(), 60u);
    EXPECT_EQ(back->views[59].minutiae, view.minutiae);
  }
}

}  // namespace
}  // namespace ektp::bio
