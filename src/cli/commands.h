// Handlers for the rows of the command table (commands.cc). Each subsystem's
// handlers live in cli/<subsystem>_commands.cc.
#pragma once

#include "cli/command.h"

namespace ektp::cli {

// demo_commands.cc
int Demo(const Args& args);

// sim_commands.cc
int Sim(const Args& args);
// chaos_commands.cc
int Chaos(const Args& args);

// audit_commands.cc
int CentralAuditVerify(const Args& args);
int CentralIntegrityReport(const Args& args);
int CentralAuditCheckpoint(const Args& args);
int StationAuditCheckpoints(const Args& args);

// pipeline_commands.cc
int CentralPipelineStatus(const Args& args);
int CentralMatcher(const Args& args);
int CentralAdjudicationList(const Args& args);
int CentralAdjudicationShow(const Args& args);
int CentralAdjudicationDecide(const Args& args);

// core_commands.cc
int NikParse(const Args& args);
int NikNext(const Args& args);
int RegionShow(const Args& args);
int RegionSearch(const Args& args);

// backup_commands.cc
int BackupKeyCreate(const Args& args);
int StationBackup(const Args& args);
int StationRestore(const Args& args);
int CentralBackup(const Args& args);
int CentralRestore(const Args& args);

// server_commands.cc
int CentralInit(const Args& args);
int CentralServe(const Args& args);
int CentralTokenCreate(const Args& args);
int CentralStationList(const Args& args);
int CentralStationApprove(const Args& args);
int CentralAccountAdd(const Args& args);
int CentralStationRevoke(const Args& args);
int CentralStationReplace(const Args& args);
int StationInit(const Args& args);
int StationServe(const Args& args);
int StationOperatorAdd(const Args& args);
int StationOutbox(const Args& args);

// media_commands.cc
int StationExport(const Args& args);
int StationCarryOver(const Args& args);
int CentralImport(const Args& args);
int StationImportReceipt(const Args& args);
int CentralExportFeed(const Args& args);
int StationImportFeed(const Args& args);

// review_commands.cc
int StationReviewList(const Args& args);
int StationReviewApprove(const Args& args);
int StationReviewReject(const Args& args);
int CentralStationHome(const Args& args);

// operator_commands.cc
int StationOperatorFingerprints(const Args& args);
int CentralOperatorRevoke(const Args& args);
int CentralOperatorList(const Args& args);

// store_commands.cc
int DbMigrate(const Args& args);

// print_commands.cc
int CentralPrintQueueShow(const Args& args);
int CentralPrintQueueUrgentRequest(const Args& args);
int CentralPrintQueueUrgentApprove(const Args& args);
int CentralPrintQueueUrgentReject(const Args& args);
int CentralPrintQueueUrgentList(const Args& args);
int CentralPrintQueueReasonAdd(const Args& args);
int CentralPrintQueuePolicySet(const Args& args);
int ResidentStatus(const Args& args);

// card_commands.cc
int CardShow(const Args& args);
int CardExample(const Args& args);

// suket_commands.cc
int SuketVerify(const Args& args);
int SuketExample(const Args& args);

// blanks_commands.cc
int CentralBlanksStockIn(const Args& args);
int CentralBlanksShip(const Args& args);
int CentralBlanksHandOver(const Args& args);
int CentralBlanksReturn(const Args& args);
int CentralBlanksWhere(const Args& args);
int CentralBlanksReconcile(const Args& args);
// plan_commands.cc
int CentralBlanksNeed(const Args& args);
int CentralBlanksPlan(const Args& args);

// tool_commands.cc
int ToolFaultProxy(const Args& args);

// bio_commands.cc
int BioEval(const Args& args);
int BioBench(const Args& args);
int BioSynth(const Args& args);
int BioSynthCalibrate(const Args& args);
int BioScale(const Args& args);
int BioTemplateShow(const Args& args);

}  // namespace ektp::cli
