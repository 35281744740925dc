// Small string helpers shared by the core, and the UTF-8 rules every error
// message and every validated text field follows.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ektp {

std::vector<std::string_view> SplitLines(std::string_view text);  // handles \n and \r\n
std::vector<std::string_view> SplitWords(std::string_view text);  // on ASCII whitespace
std::string ToLowerAscii(std::string_view text);
std::string_view Trim(std::string_view text);
bool IsAllDigits(std::string_view text);  // false for ""

// The code point starting at text[*pos], advancing *pos past it. An invalid
// sequence (stray continuation byte, overlong form, surrogate, > U+10FFFF,
// truncated) yields nullopt and advances *pos by one byte.
// REQUIRES: *pos < text.size()
std::optional<char32_t> NextCodePoint(std::string_view text, size_t* pos);
void AppendUtf8(char32_t code_point, std::string* out);
bool IsValidUtf8(std::string_view text);
// `text` with every invalid sequence replaced by U+FFFD; valid text unchanged.
std::string ToValidUtf8(std::string_view text);

// C0 and C1 controls and DEL.
bool IsControlCharacter(char32_t c);
// Invisible characters that change how text reads: Unicode's format
// characters (bidi overrides and isolates, zero-width space and joiners, soft
// hyphen, BOM, ...), the line and paragraph separators and the tag block.
bool IsFormatCharacter(char32_t c);
// "U+202E".
std::string CodePointName(char32_t c);

// Input fit to be quoted in an error message or log: always valid UTF-8,
// invalid bytes as U+FFFD, control and format characters written as
// "<U+202E>", at most `max_chars` code points (then "..."), never cutting a
// character.
std::string QuoteInput(std::string_view text, size_t max_chars = 40);

}  // namespace ektp
