// Records in the print queue for other folders' tests, made the way ingest
// and the pipeline make them (through the record owner, never raw SQL).
#pragma once

#include <chrono>
#include <string>

#include "core/application.h"
#include "printing/print_queue.h"
#include "store/record_repository.h"

namespace ektp::printing::testing {

// A record of a resident of `village`, born `born`, taken received ->
// validated -> dedupe_pending -> unique.
StatusOr<int64_t> CreateUniqueRecord(store::RecordRepository& records, const std::string& registration,
                                     ApplicationKind kind, std::chrono::year_month_day born,
                                     const std::string& village);

// The pipeline's contract: the move to print_ready and Enqueue commit together.
Status MakePrintReady(store::Connection& db, store::RecordRepository& records, PrintQueue& queue, int64_t id);

}  // namespace ektp::printing::testing
