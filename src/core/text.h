// Small string helpers shared by the core.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ektp {

std::vector<std::string_view> SplitLines(std::string_view text);  // handles \n and \r\n
std::vector<std::string_view> SplitWords(std::string_view text);  // on ASCII whitespace
std::string ToLowerAscii(std::string_view text);
std::string_view Trim(std::string_view text);
bool IsAllDigits(std::string_view text);  // false for ""

}  // namespace ektp
