#include "core/text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ektp {
namespace {

TEST(TextTest, NextCodePointDecodesAndRefusesInvalidSequences) {
  std::string text = "A\xC3\x89\xE2\x80\xAE\xF0\x9F\x98\x80";  // A É U+202E U+1F600
  size_t pos = 0;
  EXPECT_EQ(NextCodePoint(text, &pos), U'A');
  EXPECT_EQ(NextCodePoint(text, &pos), U'\u00C9');
  EXPECT_EQ(NextCodePoint(text, &pos), U'\u202E');
  EXPECT_EQ(NextCodePoint(text, &pos), U'\U0001F600');
  EXPECT_EQ(pos, text.size());
  for (std::string bad : {"\xC3", "\x80", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x80"}) {
    pos = 0;
    EXPECT_EQ(NextCodePoint(bad, &pos), std::nullopt) << bad.size();
    EXPECT_EQ(pos, 1u);
  }
}

TEST(TextTest, ToValidUtf8ReplacesOnlyInvalidBytes) {
  EXPECT_EQ(ToValidUtf8("J\xC3\x89R\xC3\x94ME"), "J\xC3\x89R\xC3\x94ME");
  EXPECT_EQ(ToValidUtf8("S\xC3"), "S\xEF\xBF\xBD");  // a character cut after its first byte
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xFF\xFE\x80 x")));
}

TEST(TextTest, QuoteInputNeverCutsACharacterAndShowsInvisibleOnes) {
  EXPECT_EQ(QuoteInput("S\xC3\x9ATI", 2), "S\xC3\x9A...");
  EXPECT_EQ(QuoteInput("AB\xE2\x80\xAE" "C\x01\xC2\x85", 40), "AB<U+202E>C<U+0001><U+0085>");
  EXPECT_EQ(QuoteInput("\xC3", 40), "\xEF\xBF\xBD");
  EXPECT_EQ(QuoteInput("short"), "short");
}

TEST(TextTest, FormatAndControlCharacters) {
  for (char32_t c : {U'\u202E', U'\u200B', U'\u200D', U'\u2066', U'\uFEFF', U'\u00AD', U'\u2028'}) {
    EXPECT_TRUE(IsFormatCharacter(c)) << CodePointName(c);
  }
  EXPECT_FALSE(IsFormatCharacter(U'A'));
  EXPECT_FALSE(IsFormatCharacter(U'\u00C9'));
  EXPECT_TRUE(IsControlCharacter(U'\u0085'));
  EXPECT_TRUE(IsControlCharacter(U'\x7F'));
  EXPECT_FALSE(IsControlCharacter(U' '));
  EXPECT_EQ(CodePointName(U'\u202E'), "U+202E");
}

TEST(StatusUtf8Test, EveryMessageIsValidUtf8AndSerialisesAsJson) {
  // The byte-wise cut of "Ú" that once made a whole upload batch fail.
  Status status = InvalidArgument(std::string("name: character '") + '\xC3' + "' is not allowed");
  EXPECT_TRUE(IsValidUtf8(status.message()));
  EXPECT_EQ(status.message(), "name: character '\xEF\xBF\xBD' is not allowed");
  nlohmann::json body = {{"error", status.ToString()}};
  EXPECT_NO_THROW((void)body.dump());
  EXPECT_TRUE(IsValidUtf8(status.WithContext("x").message()));
}

}  // namespace
}  // namespace ektp
