#pragma once

namespace ektp {
inline constexpr const char* kVersion = "0.1.0";
}
