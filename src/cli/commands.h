// Handlers for the rows of the command table (commands.cc). Each subsystem's
// handlers live in cli/<subsystem>_commands.cc.
#pragma once

#include "cli/command.h"

namespace ektp::cli {

// core_commands.cc
int NikParse(const Args& args);
int NikNext(const Args& args);
int RegionShow(const Args& args);
int RegionSearch(const Args& args);

// store_commands.cc
int DbMigrate(const Args& args);

}  // namespace ektp::cli
