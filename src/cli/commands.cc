#include "cli/commands.h"

namespace ektp::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> table = {
      {"demo", "run central and two stations here (--stations N), enroll synthetic residents and sync them", Demo},
      {"nik parse", "decode and validate a NIK", NikParse},
      {"nik next", "allocate the next free NIK for a kecamatan and birth date", NikNext},
      {"region show", "show a region code, its parents and population", RegionShow},
      {"region search", "find regions by name", RegionSearch},
      {"central init", "create central's keys, TLS certificate and database", CentralInit},
      {"central serve", "run central's API server", CentralServe},
      {"central token create", "create a one-time registration token for a station", CentralTokenCreate},
      {"central station list", "list registered stations", CentralStationList},
      {"central station approve", "approve a registered station", CentralStationApprove},
      {"central station revoke", "revoke a station", CentralStationRevoke},
      {"central pipeline status", "show the processing pipeline's queues and dead jobs; retry dead jobs", CentralPipelineStatus},
      {"central matcher", "run a matcher shard holding 1/n of the gallery (--shard k/n)", CentralMatcher},
      {"central adjudication list", "list suspected duplicates waiting for a decision", CentralAdjudicationList},
      {"central adjudication show", "show both sides of a suspected duplicate (demographics, photos, finger scores)", CentralAdjudicationShow},
      {"central adjudication decide", "decide a suspected duplicate: different people, or the same person", CentralAdjudicationDecide},
      {"central audit verify", "check central's hash-chained audit log for edited or deleted entries", CentralAuditVerify},
      {"central audit checkpoint", "sign the audit log's head, send it to every station and write it to a file",
       CentralAuditCheckpoint},
      {"station init", "register this station with central", StationInit},
      {"station serve", "run the station: operator API and background sync", StationServe},
      {"station operator add", "add an operator account", StationOperatorAdd},
      {"station outbox", "show the outbox, including parked items", StationOutbox},
      {"station audit checkpoints", "export the audit checkpoints central sent this station", StationAuditCheckpoints},
      {"tool fault-proxy", "fault-injecting TCP proxy (cuts, resets, delays, rate limit) for link tests", ToolFaultProxy},
      {"db migrate", "apply the embedded schema migrations to a database", DbMigrate},
      {"bio eval", "FVC-protocol accuracy (EER, FMR100, FMR1000, ZeroFMR) of the matcher", BioEval},
      {"bio bench", "matcher speed: comparisons/s/core, 1:N latency, memory (JSON)", BioBench},
      {"bio synth", "generate deterministic synthetic fingerprint templates", BioSynth},
      {"bio scale", "1:N de-duplication benchmark on a synthetic gallery (FNIR, latency)", BioScale},
      {"bio template show", "decode an ISO 19794-2 / ANSI 378 template and print it as JSON", BioTemplateShow},
      {"central print-queue show", "show a regency's print queue in order, with why each record stands there", CentralPrintQueueShow},
      {"central print-queue urgent request", "ask for a record to be printed ahead (urgent case, with evidence)", CentralPrintQueueUrgentRequest},
      {"central print-queue urgent approve", "approve another person's urgent request", CentralPrintQueueUrgentApprove},
      {"central print-queue urgent reject", "reject an urgent request", CentralPrintQueueUrgentReject},
      {"central print-queue urgent list", "list urgent requests", CentralPrintQueueUrgentList},
      {"central print-queue reason add", "add an urgent reason beyond the built-in ones", CentralPrintQueueReasonAdd},
      {"central print-queue policy set", "set whether a regency prioritises first cards at 17 and Suket holders", CentralPrintQueuePolicySet},
      {"card show", "decode an e-KTP chip blob and check central's signature and the photo", CardShow},
      {"card example", "render a synthetic resident's card (PNG, PDF) and chip blob, to see the layout", CardExample},
      {"central blanks need", "blank-card need per regency (backlog + expected during the lead time) and shortages",
       CentralBlanksNeed},
      {"central blanks plan", "divide N blank cards across all regencies under each policy, with waits and backlog left",
       CentralBlanksPlan},
      {"status", "look up a card's stage, location and collection estimate at central (NIK + receipt)", ResidentStatus},
  };
  return table;
}

}  // namespace ektp::cli
