// Supervisor review before upload, limits on unsynced work and the location
// of each enrollment (issue 19, items 2 and 5), with a real central over
// loopback HTTPS.
#include "station/station_test_fixture.h"

#include <nlohmann/json.hpp>

#include "central/enrollment_oversight.h"
#include "central/hand_over.h"
#include "central/ingest.h"
#include "central/server.h"
#include "core/resident_json.h"
#include "net/http_client.h"

namespace ektp::station {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

class ReviewTest : public StationTest {
 protected:
  void SetUp() override {
    StationTest::SetUp();
    box_key_ = LoadBoxKey();
    ASSERT_NE(box_key_, nullptr);
    ASSERT_OK(station_->AddOperator(sari_, "kata-sandi-2", crypto::PasswordStrength::kFast));
    ASSERT_OK(station_->AddOperator(budi_, "kata-sandi-3", crypto::PasswordStrength::kFast));
    EnrollmentPolicy policy;
    policy.review_required = true;
    UsePolicy(policy);
  }

  // station_ and sync_ under `policy` (its review copy key is the station's box key).
  void UsePolicy(EnrollmentPolicy policy) {
    policy.review_copy_key = box_key_->public_key();
    StationTest::UsePolicy(policy);
  }

  std::string Enroll(const Operator& op, std::optional<enrollment::Location> location = std::nullopt) {
    EnrollmentRequest request = Request();
    request.location = location;
    auto receipt = station_->Enroll(op, request);
    EXPECT_TRUE(receipt.ok()) << receipt.status().ToString();
    return receipt.ok() ? receipt->registration_number : "";
  }

  std::string Status(const std::string& registration) {
    auto status = station_->GetEnrollmentStatus(registration);
    return status.ok() ? std::string(EnrollmentStatusName(*status)) + (status->reason.empty() ? "" : ": " + status->reason)
                       : status.status().ToString();
  }

  // The next enrollment is refused naming `why`; after a sync one goes through.
  void ExpectRefusedUntilSynced(const std::string& why) {
    EXPECT_THAT(station_->Enroll(ani_, Request()), StatusIs(StatusCode::kFailedPrecondition, HasSubstr(why)));
    ASSERT_OK(sync_->SyncOnce());
    EXPECT_FALSE(Enroll(ani_).empty());
  }


  std::unique_ptr<crypto::SealingKey> box_key_;
  Operator sari_{"sari", "Sari Wulandari", Role::kSupervisor};
  Operator budi_{"budi", "Budi Santoso", Role::kSupervisor};
};

TEST_F(ReviewTest, NothingIsUploadedOrExportedUntilASupervisorApproves) {
  const std::string first = Enroll(ani_), second = Enroll(ani_);
  EXPECT_EQ(Status(first), "awaiting_review");
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 0);
  EXPECT_THAT(station_->ExportOutbox(dir_ + "/usb"), StatusIs(StatusCode::kFailedPrecondition, ::testing::_));

  ASSERT_OK(station_->ApproveEnrollment(sari_, first));
  EXPECT_EQ(Status(first), "queued");
  EXPECT_EQ(Status(second), "awaiting_review");
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 1);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE registration_number = '" + first + "'"), 1);
  EXPECT_EQ(Status(first), "validated");

  // The decision travelled in the signed packet, and central recorded it with an audit entry.
  auto inbox = central_db_->Query("SELECT envelope FROM inbox");
  ASSERT_OK(inbox.status());
  auto envelope = nlohmann::json::parse((*inbox)[0].Text(0));
  EXPECT_EQ(envelope["kind_v"], sync::PacketKindVersion(sync::PacketKind::kEnrollment));
  auto body = nlohmann::json::parse(envelope["body"].get<std::string>());
  EXPECT_EQ(body["review"]["decision"], "approved");
  EXPECT_EQ(body["review"]["reviewer"], "sari");
  EXPECT_EQ(body["review"]["decided_at"], FormatTimestamp(clock_.Now()));
  auto review = central_db_->Query("SELECT reviewer, operator, station_id, decided_at FROM enrollment_reviews "
                                   "WHERE registration_number = ?",
                                   {first});
  ASSERT_OK(review.status());
  ASSERT_EQ(review->size(), 1u);
  EXPECT_EQ((*review)[0].Text(0), "sari");
  EXPECT_EQ((*review)[0].Text(1), "ani");
  EXPECT_EQ((*review)[0].Text(2), identity_.station_id);
  auto audit = central_db_->Query("SELECT actor, detail FROM audit_log WHERE action = 'enrollment.reviewed' AND "
                                  "subject = ?",
                                  {"enrollment:" + first});
  ASSERT_OK(audit.status());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].Text(0), "station:" + identity_.station_id + "/op:sari");
  EXPECT_THAT((*audit)[0].Text(1), HasSubstr(R"("reviewer":"sari")"));
  // And in the station's audit.
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'sari' AND action = 'review_approve' AND "
                         "subject = '" + first + "'"),
            1);
  // The reviewer's copy is gone once decided.
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollment_reviews WHERE review_copy IS NOT NULL"), 1);
}

TEST_F(ReviewTest, ARejectedEnrollmentIsParkedWithTheReasonAndNeverUploaded) {
  const std::string reg = Enroll(ani_);
  EXPECT_THAT(station_->RejectEnrollment(sari_, reg, "  "),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a rejection needs a reason")));
  EXPECT_EQ(Status(reg), "awaiting_review");

  ASSERT_OK(station_->RejectEnrollment(sari_, reg, "foto wajah buram; rekam ulang"));
  EXPECT_EQ(Status(reg), "parked: rejected at review by sari: foto wajah buram; rekam ulang");
  EXPECT_THAT(station_->ApproveEnrollment(budi_, reg),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("was already rejected by sari")));
  ASSERT_OK(sync_->SyncOnce());
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM inbox"), 0);
  EXPECT_THAT(station_->ExportOutbox(dir_ + "/usb"), StatusIs(StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE operator = 'sari' AND action = 'review_reject'"), 1);
}

TEST_F(ReviewTest, OnlyAnotherSupervisorMayApprove) {
  const std::string reg = Enroll(ani_);
  Operator officer{"tini", "Tini", Role::kPrintOfficer};
  Operator admin{"admin", "Admin", Role::kAdmin};
  EXPECT_THAT(station_->ApproveEnrollment(ani_, reg),
              StatusIs(StatusCode::kPermissionDenied, "account ani is operator, not a supervisor; only a supervisor "
                                                      "may approve enrollments"));
  EXPECT_THAT(station_->ApproveEnrollment(admin, reg),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("account admin is admin, not a supervisor")));
  EXPECT_THAT(station_->RejectEnrollment(officer, reg, "no"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("account tini is print_officer, not a supervisor")));
  EXPECT_EQ(Status(reg), "awaiting_review");
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM audit WHERE action LIKE 'review_%'"), 0);

  // Four eyes: a supervisor who enrolled may not approve their own enrollment.
  const std::string own = Enroll(sari_);
  EXPECT_THAT(station_->ApproveEnrollment(sari_, own),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("supervisor sari recorded enrollment " + own +
                                                                " and may not approve it")));
  EXPECT_EQ(Status(own), "awaiting_review");
  ASSERT_OK(station_->ApproveEnrollment(budi_, own));
  EXPECT_EQ(Status(own), "queued");
  EXPECT_THAT(station_->ApproveEnrollment(budi_, "ST-000000-01-000001"),
              StatusIs(StatusCode::kNotFound, HasSubstr("no enrollment")));
}

// The routes authenticate the session they carry: the supervisor decides as
// themselves, and the reviewer sees the photo, demographics and exceptions.
TEST_F(ReviewTest, ReviewRoutesActAsTheSessionsOwnAccount) {
  EnrollmentRequest request = Request();
  request.biometrics.fingers.push_back({10, {}, enrollment::FingerException::kAmputated});
  ApproveExceptions(request);
  request.location = enrollment::Location{-7.40, 111.45, 12};
  auto receipt = station_->Enroll(ani_, request);
  ASSERT_OK(receipt.status());
  const std::string reg = receipt->registration_number;

  EnrollmentPolicy review;
  review.review_required = true;
  auto server = StartOperatorServer(review);
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  const net::HttpHeaders ani = LoginOverApi(**client, "ani", "kata-sandi-1"),
                         sari = LoginOverApi(**client, "sari", "kata-sandi-2");

  auto list = (*client)->Get("/api/v1/review/enrollments", sari);
  ASSERT_OK(list.status());
  ASSERT_EQ(list->status, 200) << list->body;
  auto listed = nlohmann::json::parse(list->body)["enrollments"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["registration_number"], reg);
  EXPECT_EQ(listed[0]["operator"], "ani");
  EXPECT_EQ(listed[0]["resident"]["name"], request.resident.name);
  EXPECT_EQ(listed[0]["face_jpeg"], crypto::Base64Encode(request.biometrics.face_jpeg));
  EXPECT_EQ(listed[0]["finger_exceptions"], nlohmann::json({{"10", "amputated"}}));
  EXPECT_EQ(listed[0]["exception_photo"], crypto::Base64Encode(HandPhoto()));
  EXPECT_EQ(listed[0]["exception_approver"], "wati");
  EXPECT_EQ(listed[0]["location"]["accuracy_m"], 12);

  auto not_listed = (*client)->Get("/api/v1/review/enrollments", ani);
  EXPECT_EQ(not_listed->status, 403);
  EXPECT_THAT(not_listed->body, HasSubstr("account ani is operator, not a supervisor"));
  auto refused = (*client)->Post("/api/v1/review/enrollments/" + reg + "/approve", "", "", ani);
  ASSERT_OK(refused.status());
  EXPECT_EQ(refused->status, 403);
  EXPECT_THAT(refused->body, HasSubstr("account ani is operator, not a supervisor"));
  auto no_reason = (*client)->Post("/api/v1/review/enrollments/" + reg + "/reject", "{}", "application/json", sari);
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_THAT(no_reason->body, HasSubstr("a rejection needs a reason"));
  EXPECT_EQ(Status(reg), "awaiting_review");

  auto approved = (*client)->Post("/api/v1/review/enrollments/" + reg + "/approve", "", "", sari);
  ASSERT_OK(approved.status());
  ASSERT_EQ(approved->status, 200) << approved->body;
  EXPECT_EQ(nlohmann::json::parse(approved->body)["by"], "sari");
  EXPECT_EQ(Status(reg), "queued");
  // Signed again with the review, the packet still carries the exceptions' approval.
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  ASSERT_EQ(pending->size(), 1u);
  auto e = enrollment::EnrollmentFromJson(sync::ParseEnvelope(pending->front().second.envelope_text)->body);
  ASSERT_OK(e.status());
  ASSERT_TRUE(e->review && e->exception_approval);
  EXPECT_EQ(e->review->reviewer, "sari");
  EXPECT_EQ(e->exception_approval->approver, "wati");
  list = (*client)->Get("/api/v1/review/enrollments", sari);
  EXPECT_EQ(nlohmann::json::parse(list->body)["enrollments"].size(), 0u);
  (*server)->Stop();
}

TEST_F(ReviewTest, TheEnrollmentPastTheCountLimitIsRefusedUntilTheStationSyncs) {
  EnrollmentPolicy policy;
  policy.max_unsynced_enrollments = 2;
  UsePolicy(policy);
  Enroll(ani_);
  Enroll(ani_);
  auto refusal = station_->CheckUnsyncedLimits();
  ASSERT_OK(refusal.status());
  ASSERT_TRUE(refusal->has_value());
  EXPECT_THAT((*refusal)->pesan, HasSubstr("Perekaman baru ditolak: stasiun ini menyimpan 2 perekaman yang belum "
                                           "terkirim ke pusat (batas 2)"));
  EXPECT_THAT((*refusal)->pesan, HasSubstr("ektp station export"));
  ExpectRefusedUntilSynced("enrollment refused: this station holds 2 enrollments not yet synced to central (the "
                           "limit is 2); sync first: connect the station to the network");
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 3);
}

TEST_F(ReviewTest, EnrollmentsAwaitingReviewCountAsUnsynced) {
  EnrollmentPolicy policy;
  policy.review_required = true;
  policy.max_unsynced_enrollments = 1;
  UsePolicy(policy);
  const std::string reg = Enroll(ani_);
  EXPECT_THAT(station_->Enroll(ani_, Request()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("1 of them wait for a supervisor's review first")));
  ASSERT_OK(sync_->SyncOnce());  // nothing to send until it is reviewed
  EXPECT_THAT(station_->Enroll(ani_, Request()), StatusIs(StatusCode::kFailedPrecondition, ::testing::_));
  ASSERT_OK(station_->ApproveEnrollment(sari_, reg));
  ExpectRefusedUntilSynced("holds 1 enrollments not yet synced");
}

TEST_F(ReviewTest, TheAgeLimitFollowsTheOldestUnsyncedEnrollment) {
  EnrollmentPolicy policy;
  policy.max_unsynced_age_hours = 24;
  UsePolicy(policy);
  Enroll(ani_);
  const std::string captured = FormatTimestamp(clock_.Now());
  clock_.Advance(std::chrono::hours(24));
  Enroll(ani_);  // exactly 24 hours: still allowed
  clock_.Advance(std::chrono::minutes(1));
  ExpectRefusedUntilSynced("the oldest enrollment not yet synced to central was captured at " + captured +
                           ", more than 24 hours ago (the limit)");
}

TEST_F(ReviewTest, TheOperatorIsToldHowToSyncOverTheApi) {
  EnrollmentPolicy policy;
  policy.max_unsynced_enrollments = 1;
  UsePolicy(policy);
  Enroll(ani_);
  auto server = StartOperatorServer(policy);
  ASSERT_OK(server.status());
  auto client = net::HttpClient::Create((*server)->base_url(), {});
  ASSERT_OK(client.status());
  net::HttpHeaders auth = LoginOverApi(**client, "ani", "kata-sandi-1");
  auth.emplace("idempotency-key", "van-7-application-0002");
  EnrollmentRequest request = Request();
  const std::vector<net::MultipartPart> parts =
      EnrollmentParts(request, {{"kind", "first_card"}, {"resident", ResidentToJson(request.resident)}});
  auto refused = (*client)->PostMultipart("/api/v1/enrollments", parts, auth);
  ASSERT_OK(refused.status());
  EXPECT_EQ(refused->status, 409);
  auto body = nlohmann::json::parse(refused->body);
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("holds 1 enrollments not yet synced to central"));
  EXPECT_THAT(body["pesan"].get<std::string>(), HasSubstr("sambungkan stasiun ke jaringan"));
  EXPECT_THAT(body["pesan"].get<std::string>(), HasSubstr("ektp station export"));
  (*server)->Stop();
}

TEST_F(ReviewTest, LocationsTravelAndCentralFlagsEnrollmentsFarFromHome) {
  UsePolicy({});
  // Ngawi's town centre as the station's home, 25 km around it.
  ASSERT_OK(central::SetHomeArea(*central_db_, clock_, identity_.station_id, {-7.404, 111.446, 25}, "admin"));
  EXPECT_THAT(central::SetHomeArea(*central_db_, clock_, identity_.station_id, {-7.4, 111.4, 0}, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "home radius must be more than 0 and at most 1000 km"));

  EnrollmentRequest bad = Request();
  bad.location = enrollment::Location{-97, 111, 10};
  EXPECT_THAT(station_->Enroll(ani_, bad),
              StatusIs(StatusCode::kInvalidArgument, "location.lat must be -90 to 90 degrees"));
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments"), 0);

  const std::string near = Enroll(ani_, enrollment::Location{-7.45, 111.50, 15});  // about 8 km
  const std::string far = Enroll(ani_, enrollment::Location{-7.98, 112.63, 20});   // Malang, about 145 km
  const std::string unlocated = Enroll(ani_);
  EXPECT_EQ(StationCount("SELECT COUNT(*) FROM enrollments WHERE location_json IS NOT NULL"), 2);
  ASSERT_OK(sync_->SyncOnce());

  auto rows = central_db_->Query("SELECT registration_number, far, distance_km, accuracy_m FROM enrollment_locations "
                                 "ORDER BY registration_number");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), near);
  EXPECT_EQ((*rows)[0].Int(1), 0);
  EXPECT_NEAR((*rows)[0].Real(2), 8.1, 0.5);
  EXPECT_EQ((*rows)[1].Text(0), far);
  EXPECT_EQ((*rows)[1].Int(1), 1);
  EXPECT_NEAR((*rows)[1].Real(2), 145, 5);
  EXPECT_EQ((*rows)[1].Real(3), 20);
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM audit_log WHERE action = 'enrollment.far_from_home' AND subject = "
                         "'enrollment:" + far + "'"),
            1);

  auto report = central::ComputeIntegrityReport(*central_db_);
  ASSERT_OK(report.status());
  ASSERT_EQ(report->locations.size(), 1u);
  EXPECT_EQ(report->locations[0].station_id, identity_.station_id);
  EXPECT_TRUE(report->locations[0].has_home_area);
  EXPECT_EQ(report->locations[0].located, 2);
  EXPECT_EQ(report->locations[0].far, 1);
  EXPECT_EQ(report->locations[0].far_registrations, std::vector<std::string>{far});
  (void)unlocated;
}

// A station that has not upgraded sends enrollment body version 1 (no
// location, no review): central still reads it.
TEST_F(ReviewTest, CentralStillAcceptsVersion1EnrollmentPackets) {
  UsePolicy({});
  Enroll(ani_);
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  ASSERT_EQ(pending->size(), 1u);
  auto envelope = nlohmann::json::parse(pending->front().second.envelope_text);
  envelope["kind_v"] = 1;
  sync::Packet version1;
  version1.envelope_text = envelope.dump();
  version1.signature = key_->Sign(version1.envelope_text);
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  central::Ingest ingest(*central_db_, clock_, *keys, RegionRegistry::Default());
  auto answer = ingest.Upload(identity_.station_id, {version1});
  ASSERT_OK(answer.status());
  ASSERT_EQ(answer->results.size(), 1u);
  EXPECT_EQ(answer->results[0].verdict, sync::Verdict::kAccepted) << answer->results[0].error;
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records WHERE state = 'validated'"), 1);
}

// Central refuses a packet whose review names its own operator (four eyes,
// checked again where the station cannot be trusted to have).
TEST_F(ReviewTest, CentralRefusesAnEnrollmentApprovedByItsOwnOperator) {
  UsePolicy({});
  Enroll(ani_);
  auto pending = station_->PendingPackets(10, 1 << 24);
  ASSERT_OK(pending.status());
  auto envelope = sync::ParseEnvelope(pending->front().second.envelope_text);
  ASSERT_OK(envelope.status());
  auto e = enrollment::EnrollmentFromJson(envelope->body);
  ASSERT_OK(e.status());
  e->review = enrollment::ReviewApproval{"ani", FormatTimestamp(clock_.Now())};
  envelope->body = enrollment::EnrollmentToJson(*e);
  auto keys = central::LoadCentralKeys(central_options_.data_dir);
  ASSERT_OK(keys.status());
  central::Ingest ingest(*central_db_, clock_, *keys, RegionRegistry::Default());
  auto answer = ingest.Upload(identity_.station_id, {sync::SignEnvelope(*envelope, *key_)});
  ASSERT_OK(answer.status());
  EXPECT_EQ(answer->results[0].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(answer->results[0].error, HasSubstr("was approved by its own operator ani"));
  EXPECT_EQ(CentralCount("SELECT COUNT(*) FROM records"), 0);
}

}  // namespace
}  // namespace ektp::station
