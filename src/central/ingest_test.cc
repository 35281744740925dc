#include "central/ingest.h"
#include "central/metrics.h"
#include "central/hand_over.h"

#include <nlohmann/json.hpp>

#include "blanks/ledger.h"
#include "core/refusal_pesan.h"
#include "core/status_matchers.h"
#include "enrollment/testing.h"
#include "pipeline/biometrics_at_rest.h"
#include "store/record_repository.h"
#include "store/testing.h"
#include "sync/station_events.h"

namespace ektp::central {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), month(11), day(24)};

class IngestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = store::testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    registry_ = std::make_unique<StationRegistry>(db_->connection(), clock_);
    ingest_ = std::make_unique<Ingest>(db_->connection(), clock_, keys_, RegionRegistry::Default());
    station_id_ = RegisterStation(station_key_);
    ASSERT_OK(registry_->Approve(station_id_, "admin"));
  }

  std::string RegisterStation(const crypto::SigningKey& key) {
    TokenRequest request{"35.21.01", StationKind::kKecamatanOffice, {"enroll"}, hours(24)};
    auto token = registry_->CreateToken(request, "admin");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    auto station = registry_->Register(*token, key.public_key());
    EXPECT_TRUE(station.ok()) << station.status().ToString();
    return station.ok() ? station->id : "";
  }

  sync::Packet EnrollmentPacket(int64_t sequence, const crypto::SigningKey& key, std::string station_id = "") {
    if (station_id.empty()) station_id = station_id_;
    return Packet(sequence, Enrollment(sequence, station_id), key, station_id);
  }

  enrollment::Enrollment Enrollment(int64_t sequence, const std::string& station_id) {
    return enrollment::testing::SampleEnrollment(station_id, sequence, keys_.sealing.public_key(), random_, kToday,
                                                 2000);
  }

  // `enrollment` as packet `sequence` of `envelope_station`, signed with `key`.
  static sync::Packet Packet(int64_t sequence, const enrollment::Enrollment& enrollment, const crypto::SigningKey& key,
                             const std::string& envelope_station) {
    sync::Envelope envelope{sync::kEnvelopeVersion, envelope_station, sequence, sync::PacketKind::kEnrollment,
                            "2026-11-24T02:00:00Z", enrollment::EnrollmentToJson(enrollment)};
    return sync::SignEnvelope(envelope, key);
  }

  int64_t Count(const std::string& table) {
    auto rows = db_->connection().Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  FakeClock clock_{sys_days(kToday) + hours(3)};
  SeededRandom random_{11};
  CentralKeys keys_{crypto::SigningKey::Generate(), crypto::SealingKey::Generate(), crypto::DataKey::Generate()};
  crypto::SigningKey station_key_ = crypto::SigningKey::Generate();
  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<StationRegistry> registry_;
  std::unique_ptr<Ingest> ingest_;
  std::string station_id_;
};

TEST_P(IngestTest, APrintStationRegistersItsX25519KeyWhichIsKeptPinned) {
  TokenRequest request{"35.21.01", StationKind::kDisdukcapilOffice, {"enroll", "print"}, hours(1)};
  auto token = registry_->CreateToken(request, "admin");
  ASSERT_OK(token.status());
  crypto::SigningKey key = crypto::SigningKey::Generate();
  EXPECT_THAT(registry_->Register(*token, key.public_key()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a print station must register an X25519 key")));
  EXPECT_THAT(registry_->Register(*token, key.public_key(), crypto::Bytes(31, 1)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("box public key must be 32 bytes")));
  // The refusals used nothing up: the token still registers the station.
  crypto::SealingKey box = crypto::SealingKey::Generate();
  auto station = registry_->Register(*token, key.public_key(), box.public_key());
  ASSERT_OK(station.status());
  EXPECT_EQ(station->box_public_key, box.public_key());
  auto stored = registry_->Get(station->id);
  ASSERT_OK(stored.status());
  EXPECT_EQ(stored->box_public_key, box.public_key());
  EXPECT_EQ(stored->public_key, key.public_key());
  // A station without `print` may still register without one.
  EXPECT_TRUE(registry_->Get(station_id_)->box_public_key.empty());
}

// A print station's events go through the ledger's checks: an event that does not fit what
// central knows is refused for that packet alone, with the reason, and changes nothing.
TEST_P(IngestTest, PrintStationEventsThatDoNotFitTheLedgerAreRefusedByName) {
  TokenRequest request{"35.21.01", StationKind::kDisdukcapilOffice, {"enroll", "print"}, hours(1)};
  auto token = registry_->CreateToken(request, "admin");
  ASSERT_OK(token.status());
  crypto::SigningKey key = crypto::SigningKey::Generate();
  auto station = registry_->Register(*token, key.public_key(), crypto::SealingKey::Generate().public_key());
  ASSERT_OK(station.status());
  ASSERT_OK(registry_->Approve(station->id, "admin"));
  auto event = [&](int64_t sequence, sync::PacketKind kind, std::string body) {
    return sync::SignEnvelope({sync::kEnvelopeVersion, station->id, sequence, kind, "2026-11-24T02:00:00Z", body}, key);
  };
  const std::vector<sync::Packet> packets = {
      event(1, sync::PacketKind::kBlanksReceived, sync::BlanksReceivedToJson({"r-1", 1, 5, "2026-11-24T02:00:00Z", "budi"})),
      event(2, sync::PacketKind::kCardPrinted,
            sync::CardPrintedToJson({"p-1", 99, "ST-352101-02-000001", 1, "2026-11-24T02:00:00Z", "budi"})),
      event(3, sync::PacketKind::kBlankSpoiled, sync::BlankSpoiledToJson({"s-1", 1, "lost", "", 0, "t", "budi"})),
      event(4, sync::PacketKind::kCardMisprinted,
            sync::CardMisprintedToJson({"m-1", 99, "ST-352101-02-000001", 1, "", "t", "budi"})),
      event(5, sync::PacketKind::kCardsDispatched,
            sync::CardsDispatchedToJson({"d-1", station->id, {{99, "ST-352101-02-000001", 1}}, "t", "budi"})),
      event(6, sync::PacketKind::kCardsDispatched,
            sync::CardsDispatchedToJson({"d-2", "ST-352101-01", {{99, "ST-352101-02-000001", 1}}, "t", "budi"})),
      event(7, sync::PacketKind::kCardsDispatched,
            sync::CardsDispatchedToJson({"d-3", "ST-999999-01", {{99, "ST-352101-02-000001", 1}}, "t", "budi"})),
  };
  auto response = ingest_->Upload(station->id, packets);
  ASSERT_OK(response.status());
  ASSERT_EQ(response->results.size(), 7u);
  for (const sync::PacketResult& result : response->results) EXPECT_EQ(result.verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[0].error, HasSubstr("0000000001"));
  EXPECT_THAT(response->results[1].error, HasSubstr("print job 99 does not exist"));
  EXPECT_THAT(response->results[2].error, HasSubstr("lost"));
  EXPECT_THAT(response->results[3].error, HasSubstr("print job 99 does not exist"));
  EXPECT_THAT(response->results[4].error,
              HasSubstr("dispatch manifest d-1 of station " + station->id +
                        ", card 0000000001: print job 99 does not exist"));
  EXPECT_THAT(response->results[5].error,
              HasSubstr("dispatch manifest d-2 of station " + station->id +
                        ": station ST-352101-01 is not an approved station with an X25519 key"));
  EXPECT_THAT(response->results[6].error, HasSubstr("dispatch manifest d-3 of station " + station->id + ": "));
  EXPECT_THAT(response->results[6].error, HasSubstr("ST-999999-01"));
  EXPECT_EQ(Count("blank_uses"), 0);
  EXPECT_EQ(Count("blank_station_events"), 0);
}

TEST_P(IngestTest, RegistrationTokensWorkOnceAndExpire) {
  EXPECT_EQ(station_id_, "ST-352101-01");
  TokenRequest request{"35.21.01", StationKind::kMobileVan, {"enroll", "suket"}, hours(1)};
  auto token = registry_->CreateToken(request, "admin");
  ASSERT_TRUE(token.ok());
  crypto::SigningKey key = crypto::SigningKey::Generate();
  auto station = registry_->Register(*token, key.public_key());
  ASSERT_TRUE(station.ok()) << station.status().ToString();
  EXPECT_EQ(station->id, "ST-352101-02");
  EXPECT_EQ(station->kind, StationKind::kMobileVan);
  EXPECT_EQ(station->status, StationStatus::kPending);
  EXPECT_THAT(registry_->Register(*token, key.public_key()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("already used")));
  auto late = registry_->CreateToken(request, "admin");
  clock_.Advance(hours(2));
  EXPECT_THAT(registry_->Register(*late, key.public_key()), StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
  EXPECT_THAT(registry_->Register("nonsense", key.public_key()), StatusIs(StatusCode::kUnauthenticated, HasSubstr("not known")));
  EXPECT_THAT(registry_->CreateToken({"35.21.99", StationKind::kMobileVan, {"enroll"}, hours(1)}, "admin"),
              StatusIs(StatusCode::kInvalidArgument, "kecamatan 35.21.99 does not exist"));
  EXPECT_THAT(ParseCapabilities("enroll,fly"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("capability 'fly'")));
}

// Enrollment body version 3: the capture quality the station recorded per
// finger is stored with the registration number, on both backends; a
// version 2 body (none) stores nothing.
TEST_P(IngestTest, StoresEachFingersCaptureQuality) {
  enrollment::Enrollment with_quality = Enrollment(1, station_id_);
  with_quality.finger_quality = {{2, 57}, {7, 83}};
  auto response = ingest_->Upload(station_id_, {Packet(1, with_quality, station_key_, station_id_),
                                                EnrollmentPacket(2, station_key_)});
  ASSERT_OK(response);
  ASSERT_EQ(response->results.size(), 2u);
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted) << response->results[0].error;
  EXPECT_EQ(response->results[1].verdict, sync::Verdict::kAccepted) << response->results[1].error;
  auto rows = db_->connection().Query(
      "SELECT registration_number, position, score FROM enrollment_finger_quality ORDER BY position");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), with_quality.registration_number);
  EXPECT_EQ((*rows)[0].Int(1), 2);
  EXPECT_EQ((*rows)[0].Int(2), 57);
  EXPECT_EQ((*rows)[1].Int(1), 7);
  EXPECT_EQ((*rows)[1].Int(2), 83);
}

TEST_P(IngestTest, AcceptsValidatesAndReportsDownTheFeed) {
  auto response = ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_), EnrollmentPacket(2, station_key_)});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->cursor, 2);
  ASSERT_EQ(response->results.size(), 2u);
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted) << response->results[0].error;
  store::RecordRepository records(db_->connection(), clock_);
  auto record = records.FindByRegistration("ST-352101-01-000001");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->state, RecordState::kValidated);
  EXPECT_EQ(Count("record_biometrics"), 2);
  // Stored encrypted with central's biometrics key, bound to the record's id.
  auto stored = db_->connection().Query("SELECT biometrics FROM record_biometrics WHERE record_id = ?", {record->id});
  ASSERT_OK(stored);
  store::Blob ciphertext = (*stored)[0].Bytes(0);
  EXPECT_EQ(std::string(ciphertext.begin(), ciphertext.begin() + 4), "ekd1");
  auto biometrics = pipeline::LoadRecordBiometrics(db_->connection(), keys_.biometrics, record->id);
  ASSERT_OK(biometrics);
  EXPECT_EQ(biometrics->fingers.size(), 2u);
  EXPECT_THAT(pipeline::DecryptRecordBiometrics(keys_.biometrics, record->id + 1, ciphertext),
              StatusIs(StatusCode::kDataLoss, HasSubstr("stored for another row")));
  // Both records' creation and validation are in the audit chain (after the station's approval).
  auto audit = store::AuditLog(db_->connection(), clock_).Verify();
  ASSERT_OK(audit);
  EXPECT_TRUE(audit->intact) << audit->problem;
  EXPECT_EQ(audit->entries, 1 + 2 * 2);

  auto feed = ingest_->Feed(station_id_, 0, 10);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 2u);
  EXPECT_EQ((*feed)[0].kind, "validation_result");
  auto body = nlohmann::json::parse((*feed)[0].body);
  EXPECT_EQ(body["state"], "validated");
  EXPECT_OK(crypto::Verify(keys_.signing.public_key(), (*feed)[0].body, (*feed)[0].signature));
  EXPECT_EQ(ingest_->Feed(station_id_, (*feed)[1].id, 10)->size(), 0u);
}

TEST_P(IngestTest, ResendIsADuplicateAndChangesNothing) {
  sync::Packet packet = EnrollmentPacket(1, station_key_);
  ASSERT_TRUE(ingest_->Upload(station_id_, {packet}).ok());
  auto again = ingest_->Upload(station_id_, {packet});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->results[0].verdict, sync::Verdict::kDuplicate);
  EXPECT_EQ(Count("records"), 1);
  EXPECT_EQ(Count("feed"), 1);
  EXPECT_EQ(Count("audit_log"), 1 + 2);
}

TEST_P(IngestTest, BadPacketsAreRefusedWithoutStateChange) {
  sync::Packet good = EnrollmentPacket(1, station_key_);
  ASSERT_TRUE(ingest_->Upload(station_id_, {good}).ok());
  int64_t records = Count("records"), inbox = Count("inbox"), feed = Count("feed");

  sync::Packet tampered = EnrollmentPacket(2, station_key_);
  tampered.envelope_text[tampered.envelope_text.size() / 2] ^= 1;
  sync::Packet foreign = EnrollmentPacket(3, crypto::SigningKey::Generate());
  sync::Packet conflicting = EnrollmentPacket(1, station_key_);  // sequence 1 again, other content
  auto response = ingest_->Upload(station_id_, {tampered, foreign, conflicting});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_THAT(response->results[0].error, HasSubstr("signature does not verify"));
  EXPECT_THAT(response->results[1].error, HasSubstr("signature does not verify"));
  EXPECT_THAT(response->results[2].error, HasSubstr("sequence 1 was already used for other content"));
  for (const auto& result : response->results) EXPECT_EQ(result.verdict, sync::Verdict::kRejected);
  EXPECT_EQ(Count("records"), records);
  EXPECT_EQ(Count("inbox"), inbox);
  EXPECT_EQ(Count("feed"), feed);
  EXPECT_EQ(response->cursor, 1);
}

// A station may only upload its own packets and enrollments, numbered in its
// own registration range; each refusal names the mismatch and stores nothing.
TEST_P(IngestTest, PacketsAndEnrollmentsOfAnotherStationAreRefused) {
  crypto::SigningKey other_key = crypto::SigningKey::Generate();
  const std::string other = RegisterStation(other_key);
  ASSERT_EQ(other, "ST-352101-02");
  ASSERT_OK(registry_->Approve(other, "admin"));

  // Signed by this station (so the signature verifies) but naming the other in its envelope.
  sync::Packet foreign_envelope = Packet(1, Enrollment(1, station_id_), station_key_, other);
  // This station's envelope carrying the other station's enrollment.
  sync::Packet foreign_enrollment = Packet(2, Enrollment(2, other), station_key_, station_id_);
  // This station's enrollment numbered in the other station's range.
  enrollment::Enrollment borrowed = Enrollment(3, station_id_);
  borrowed.registration_number = enrollment::testing::RegistrationNumber(other, 3);
  sync::Packet foreign_range = Packet(3, borrowed, station_key_, station_id_);
  // A prefix of this station's id is not its range either.
  enrollment::Enrollment prefixed = Enrollment(4, station_id_);
  prefixed.registration_number = station_id_ + "0-000004";
  sync::Packet prefix_range = Packet(4, prefixed, station_key_, station_id_);

  auto response = ingest_->Upload(station_id_, {foreign_envelope, foreign_enrollment, foreign_range, prefix_range});
  ASSERT_OK(response);
  ASSERT_EQ(response->results.size(), 4u);
  for (const auto& result : response->results) EXPECT_EQ(result.verdict, sync::Verdict::kRejected);
  EXPECT_EQ(response->results[0].sequence, 1);
  EXPECT_EQ(response->results[0].error,
            "UNAUTHENTICATED: packet names station ST-352101-02 but was sent by ST-352101-01");
  EXPECT_EQ(response->results[1].error,
            "INVALID_ARGUMENT: enrollment names station ST-352101-02 but came from ST-352101-01");
  EXPECT_EQ(response->results[2].error, "INVALID_ARGUMENT: registration number ST-352101-02-000003 does not belong "
                                        "to station ST-352101-01");
  EXPECT_EQ(response->results[3].error, "INVALID_ARGUMENT: registration number ST-352101-010-000004 does not belong "
                                        "to station ST-352101-01");
  EXPECT_EQ(response->cursor, 0);
  EXPECT_EQ(Count("inbox"), 0);
  EXPECT_EQ(Count("records"), 0);
  EXPECT_EQ(Count("feed"), 0);
}

// Biometrics sealed to another key than central's: the packet is authentic,
// so it is stored, but its record fails validation with the reason and no
// biometrics are kept.
TEST_P(IngestTest, BiometricsCentralCannotOpenFailValidationWithTheReason) {
  enrollment::Enrollment sealed_elsewhere = Enrollment(1, station_id_);
  sealed_elsewhere.sealed_biometrics =
      crypto::Seal(crypto::SealingKey::Generate().public_key(),
                   enrollment::SerializeBiometrics(enrollment::testing::SampleBiometrics(1, 2000, random_)));
  enrollment::Enrollment garbled = Enrollment(2, station_id_);
  garbled.sealed_biometrics[garbled.sealed_biometrics.size() / 2] ^= 1;
  auto response = ingest_->Upload(station_id_, {Packet(1, sealed_elsewhere, station_key_, station_id_),
                                                Packet(2, garbled, station_key_, station_id_)});
  ASSERT_OK(response);
  store::RecordRepository records(db_->connection(), clock_);
  for (const enrollment::Enrollment* e : {&sealed_elsewhere, &garbled}) {
    SCOPED_TRACE(e->registration_number);
    auto record = records.FindByRegistration(e->registration_number);
    ASSERT_OK(record);
    EXPECT_EQ(record->state, RecordState::kFailedValidation);
    auto reason = db_->connection().Query("SELECT failure_reason FROM records WHERE id = ?", {record->id});
    ASSERT_OK(reason);
    EXPECT_EQ((*reason)[0].Text(0),
              "biometrics cannot be opened by central: sealed box does not open with this key (wrong key or altered)");
  }
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted);
  EXPECT_EQ(response->results[1].verdict, sync::Verdict::kAccepted);
  EXPECT_EQ(Count("record_biometrics"), 0);
  EXPECT_EQ(Count("pipeline_jobs"), 0);
  auto feed = ingest_->Feed(station_id_, 0, 10);
  ASSERT_OK(feed);
  ASSERT_EQ(feed->size(), 2u);
  EXPECT_THAT(nlohmann::json::parse((*feed)[0].body)["reason"].get<std::string>(),
              HasSubstr("biometrics cannot be opened by central"));
}

TEST_P(IngestTest, UnapprovedAndRevokedStationsMayNotUpload) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  std::string pending = RegisterStation(key);
  EXPECT_THAT(ingest_->Upload(pending, {EnrollmentPacket(1, key, pending)}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("is pending")));
  ASSERT_OK(registry_->Revoke(station_id_, "admin", "laptop stolen"));
  EXPECT_THAT(ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_)}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("is revoked")));
  EXPECT_THAT(ingest_->Upload("ST-000000-09", {}), StatusIs(StatusCode::kNotFound, HasSubstr("not registered")));
  EXPECT_EQ(Count("records"), 0);
}

// Issue 19 item 3: an operator revoked at central has every packet they
// perform from the revocation on refused, naming the revocation, whatever
// the station allowed; their earlier packets and the others' are accepted.
TEST_P(IngestTest, ARevokedOperatorsLaterPacketsAreRefusedNamingTheRevocation) {
  store::Connection& db = db_->connection();
  EXPECT_THAT(RevokeOperator(db, clock_, "ST-000000-09", "ani", "left", "admin"),
              StatusIs(StatusCode::kNotFound, "station ST-000000-09 is not registered"));
  EXPECT_THAT(RevokeOperator(db, clock_, station_id_, "Ani Rahayu", "left", "admin"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("username must be 1-32 characters")));
  EXPECT_THAT(RevokeOperator(db, clock_, station_id_, "ani", "", "admin"),
              StatusIs(StatusCode::kInvalidArgument, "--reason must be 1-500 bytes"));
  EXPECT_EQ(Count("operator_revocations"), 0);
  // The clock reads 03:00: Ani is revoked then.
  ASSERT_OK(RevokeOperator(db, clock_, station_id_, "ani", "left the office", "admin"));
  auto listed = RevokedOperators(db, station_id_);
  ASSERT_OK(listed.status());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].username, "ani");
  EXPECT_EQ((*listed)[0].reason, "left the office");
  EXPECT_EQ((*listed)[0].revoked_by, "admin");

  auto enrolled_by = [&](int64_t sequence, const std::string& op, const std::string& at) {
    enrollment::Enrollment e = Enrollment(sequence, station_id_);
    e.operator_name = op;
    e.captured_at = at;
    return Packet(sequence, e, station_key_, station_id_);
  };
  const std::vector<sync::Packet> packets = {
      enrolled_by(1, "ani", "2026-11-24T02:59:59Z"),  // before: kept
      enrolled_by(2, "ani", "2026-11-24T03:00:00Z"),  // at the revocation: refused
      enrolled_by(3, "budi", "2026-11-24T04:00:00Z"),
      // A station event by her is refused the same way.
      sync::SignEnvelope({sync::kEnvelopeVersion, station_id_, 4, sync::PacketKind::kBlanksReceived,
                          "2026-11-24T05:00:00Z", sync::BlanksReceivedToJson({"r-1", 1, 5, "2026-11-24T05:00:00Z", "ani"})},
                         station_key_),
      // So is an enrollment she approved as its reviewer after the revocation.
      [&] {
        enrollment::Enrollment e = Enrollment(5, station_id_);
        e.operator_name = "budi";
        e.captured_at = "2026-11-24T02:30:00Z";
        e.review = enrollment::ReviewApproval{"ani", "2026-11-24T03:30:00Z"};
        return Packet(5, e, station_key_, station_id_);
      }(),
      // And one whose finger exception she approved after it.
      [&] {
        enrollment::Enrollment e = Enrollment(6, station_id_);
        e.operator_name = "budi";
        e.captured_at = "2026-11-24T02:30:00Z";
        enrollment::Biometrics b = enrollment::testing::SampleBiometrics(3, 2000, random_);
        b.fingers.push_back({9, {}, enrollment::FingerException::kUnusable});
        b.exception_photo = enrollment::testing::SolidJpeg(480, 360, 3, 90);
        e.sealed_biometrics = crypto::Seal(keys_.sealing.public_key(), enrollment::SerializeBiometrics(b));
        e.exception_approval = enrollment::ExceptionApproval{{{9, enrollment::FingerException::kUnusable}}, "ani",
                                                             "2026-11-24T03:10:00Z"};
        return Packet(6, e, station_key_, station_id_);
      }(),
  };
  auto response = ingest_->Upload(station_id_, packets);
  ASSERT_OK(response.status());
  ASSERT_EQ(response->results.size(), 6u);
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted);
  EXPECT_EQ(response->results[1].verdict, sync::Verdict::kRejected);
  EXPECT_EQ(response->results[1].error,
            "PERMISSION_DENIED: packet 2: operator ani of station " + station_id_ + " was revoked at central at " +
                (*listed)[0].revoked_at +
                " (left the office) and performed this work at 2026-11-24T03:00:00Z; it is refused. Have another "
                "operator record it again in their own account, and disable ani's account at the station");
  // The station tells its operator the same in Bahasa Indonesia (core/refusal_pesan.h).
  EXPECT_THAT(RefusalPesan(std::string_view(response->results[1].error).substr(sizeof("PERMISSION_DENIED: ") - 1)),
              Optional(HasSubstr("Akun operator ani sudah dicabut oleh pusat (left the office)")));
  EXPECT_EQ(response->results[2].verdict, sync::Verdict::kAccepted);
  EXPECT_EQ(response->results[3].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[3].error, HasSubstr("packet 4: operator ani of station"));
  EXPECT_EQ(response->results[4].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[4].error, HasSubstr("packet 5: operator ani of station " + station_id_));
  EXPECT_THAT(response->results[4].error, HasSubstr("performed this work at 2026-11-24T03:30:00Z"));
  EXPECT_EQ(response->results[5].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[5].error, HasSubstr("packet 6: operator ani of station " + station_id_));
  EXPECT_THAT(response->results[5].error, HasSubstr("performed this work at 2026-11-24T03:10:00Z"));
  EXPECT_EQ(Count("records"), 2);
  EXPECT_EQ(Count("inbox"), 2);
  // The earlier packet sent again is still a duplicate, not refused.
  response = ingest_->Upload(station_id_, {packets[0]});
  ASSERT_OK(response.status());
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kDuplicate);
  auto audited = db.Query("SELECT actor, subject, detail FROM audit_log WHERE action = 'operator.revoked'");
  ASSERT_OK(audited.status());
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].Text(0), "admin");
  EXPECT_EQ((*audited)[0].Text(1), "station:" + station_id_);
  EXPECT_EQ(nlohmann::json::parse((*audited)[0].Text(2))["reason"], "left the office");
}

// A stolen station: its packets captured before the revocation reach central
// only through its registered replacement, once, as its own, with the
// carrier recorded; what it signs later is refused.
TEST_P(IngestTest, AReplacementCarriesOverARevokedStationsEarlierWorkOnceWithItsProvenance) {
  const sync::Packet synced = EnrollmentPacket(1, station_key_);
  ASSERT_EQ(ingest_->Upload(station_id_, {synced})->results[0].verdict, sync::Verdict::kAccepted);
  crypto::SigningKey replacement_key = crypto::SigningKey::Generate();
  const std::string replacement = RegisterStation(replacement_key);
  ASSERT_OK(registry_->Approve(replacement, "admin"));
  const sync::Packet earlier = EnrollmentPacket(2, station_key_);  // created 02:00, before the revocation at 03:00

  EXPECT_THAT(registry_->Replace(station_id_, replacement, "admin"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is approved; revoke it first")));
  ASSERT_OK(registry_->Revoke(station_id_, "admin", "laptop stolen"));
  EXPECT_THAT(ingest_->Upload(station_id_, {earlier}),
              StatusIs(StatusCode::kPermissionDenied,
                       HasSubstr("is revoked; only approved stations may upload (revoked at 2026-11-24T03:00:00Z: "
                                 "laptop stolen)")));
  EXPECT_THAT(ingest_->CarryOver(station_id_, replacement, {earlier}),
              StatusIs(StatusCode::kPermissionDenied,
                       HasSubstr("station " + replacement + " is not the registered replacement of station " +
                                 station_id_)));
  TokenRequest van{"35.21.01", StationKind::kMobileVan, {"enroll"}, hours(1)};
  auto token = registry_->CreateToken(van, "admin");
  ASSERT_OK(token.status());
  auto other_kind = registry_->Register(*token, crypto::SigningKey::Generate().public_key());
  ASSERT_OK(other_kind.status());
  EXPECT_THAT(registry_->Replace(station_id_, other_kind->id, "admin"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("as mobile_van, not 35.21.01 as kecamatan_office")));
  ASSERT_OK(registry_->Replace(station_id_, replacement, "admin"));
  EXPECT_THAT(registry_->Replace(station_id_, replacement, "admin"),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("is already replaced by " + replacement)));
  EXPECT_EQ(Count("records"), 1);

  // The later packet: signed with the stolen key after the revocation.
  enrollment::Enrollment forged_enrollment = Enrollment(3, station_id_);
  sync::Packet later = sync::SignEnvelope({sync::kEnvelopeVersion, station_id_, 3, sync::PacketKind::kEnrollment,
                                           "2026-11-24T03:30:00Z", enrollment::EnrollmentToJson(forged_enrollment)},
                                          station_key_);
  // Signed by the replacement instead of the old station: not the old station's work.
  sync::Packet invented = EnrollmentPacket(4, replacement_key);
  auto carried = ingest_->CarryOver(station_id_, replacement, {synced, earlier, later, invented});
  ASSERT_OK(carried.status());
  ASSERT_EQ(carried->results.size(), 4u);
  EXPECT_EQ(carried->results[0].verdict, sync::Verdict::kDuplicate);
  EXPECT_EQ(carried->results[1].verdict, sync::Verdict::kAccepted);
  EXPECT_EQ(carried->results[2].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(carried->results[2].error,
              HasSubstr("packet 3 of station " + station_id_ + " was created at 2026-11-24T03:30:00Z, not before the "
                        "station was revoked at 2026-11-24T03:00:00Z"));
  EXPECT_EQ(carried->results[3].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(carried->results[3].error, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(carried->cursor, 2);
  EXPECT_EQ(Count("records"), 2);

  // Again: a duplicate, nothing changes.
  auto again = ingest_->CarryOver(station_id_, replacement, {earlier});
  ASSERT_OK(again.status());
  EXPECT_EQ(again->results[0].verdict, sync::Verdict::kDuplicate);
  EXPECT_EQ(Count("records"), 2);
  EXPECT_EQ(Count("carried_over"), 1);

  auto provenance = db_->connection().Query(
      "SELECT c.station_id, c.sequence, c.carried_by, c.carried_at, c.content_sha256 FROM carried_over c");
  ASSERT_OK(provenance.status());
  ASSERT_EQ(provenance->size(), 1u);
  EXPECT_EQ((*provenance)[0].Text(0), station_id_);
  EXPECT_EQ((*provenance)[0].Int(1), 2);
  EXPECT_EQ((*provenance)[0].Text(2), replacement);
  EXPECT_EQ((*provenance)[0].Text(3), "2026-11-24T03:00:00Z");
  EXPECT_EQ((*provenance)[0].Text(4), earlier.ContentHash());
  auto records = db_->connection().Query("SELECT COUNT(*) FROM records WHERE station_id = ?", {station_id_});
  ASSERT_OK(records.status());
  EXPECT_EQ((*records)[0].Int(0), 2);  // the old station's, not the replacement's
  auto audited = db_->connection().Query("SELECT actor, subject FROM audit_log WHERE action = 'station.carried_over'");
  ASSERT_OK(audited.status());
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].Text(0), "station:" + replacement);
  EXPECT_EQ((*audited)[0].Text(1), "station:" + station_id_);
}

TEST_P(IngestTest, InvalidApplicationIsStoredAsFailedValidationWithTheReason) {
  auto enrollment = enrollment::testing::SampleEnrollment(station_id_, 1, keys_.sealing.public_key(), random_, kToday, 2000);
  auto biometrics = enrollment::testing::SampleBiometrics(1, 2000, random_);
  biometrics.fingers[1].template_bytes.resize(30);
  enrollment.sealed_biometrics = crypto::Seal(keys_.sealing.public_key(), enrollment::SerializeBiometrics(biometrics));
  sync::Envelope envelope{1, station_id_, 1, sync::PacketKind::kEnrollment, "t", enrollment::EnrollmentToJson(enrollment)};
  auto response = ingest_->Upload(station_id_, {sync::SignEnvelope(envelope, station_key_)});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted);
  store::RecordRepository records(db_->connection(), clock_);
  EXPECT_EQ(records.FindByRegistration(enrollment.registration_number)->state, RecordState::kFailedValidation);
  auto feed = ingest_->Feed(station_id_, 0, 10);
  auto body = nlohmann::json::parse((*feed)[0].body);
  EXPECT_EQ(body["state"], "failed_validation");
  EXPECT_THAT(body["reason"].get<std::string>(), HasSubstr("finger 7 (telunjuk kiri): template is unreadable"));
}

TEST_P(IngestTest, CursorWaitsForGaps) {
  auto response = ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_), EnrollmentPacket(3, station_key_)});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->cursor, 1);
  response = ingest_->Upload(station_id_, {EnrollmentPacket(2, station_key_)});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->cursor, 3);
}

TEST_P(IngestTest, ABatchStoresEachPacketOnItsOwnMerits) {
  // Sequence 2 reuses sequence 1's registration number: only the database's
  // unique index can refuse it, which makes ingest store the batch again one
  // packet per transaction. Sequence 1 also appears twice in the batch.
  sync::Packet first = EnrollmentPacket(1, station_key_);
  auto clash = enrollment::testing::SampleEnrollment(station_id_, 1, keys_.sealing.public_key(), random_, kToday, 2000);
  sync::Envelope envelope{1, station_id_, 2, sync::PacketKind::kEnrollment, "t", enrollment::EnrollmentToJson(clash)};
  sync::Packet second = sync::SignEnvelope(envelope, station_key_);
  auto response = ingest_->Upload(station_id_, {first, second, EnrollmentPacket(3, station_key_), first});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->results.size(), 4u);
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted) << response->results[0].error;
  EXPECT_EQ(response->results[1].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[1].error, ::testing::StartsWith("ALREADY_EXISTS"));
  EXPECT_EQ(response->results[2].verdict, sync::Verdict::kAccepted) << response->results[2].error;
  EXPECT_EQ(response->results[3].verdict, sync::Verdict::kDuplicate);
  EXPECT_EQ(response->cursor, 1);
  EXPECT_EQ(Count("inbox"), 2);
  EXPECT_EQ(Count("records"), 2);
  EXPECT_EQ(Count("record_events"), 4);
  EXPECT_EQ(Count("feed"), 2);
  store::RecordRepository records(db_->connection(), clock_);
  auto record = records.FindByRegistration(enrollment::testing::RegistrationNumber(station_id_, 3));
  ASSERT_TRUE(record.ok());
  auto events = records.Events(record->id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].to, RecordState::kReceived);
  EXPECT_EQ((*events)[1].to, RecordState::kValidated);
}

// Issue 11, item 3: one bad record never blocks good ones. A name with a
// non-ASCII letter once made the whole batch fail (an error message cut a
// multi-byte character and could not be written as JSON).
TEST_P(IngestTest, MixedBatchOfValidAndPoisonPacketsStoresEveryValidOne) {
  auto packet = [&](int64_t sequence, std::string name, std::string body = "") {
    auto e = enrollment::testing::SampleEnrollment(station_id_, sequence, keys_.sealing.public_key(), random_, kToday, 2000);
    if (!name.empty()) e.resident.name = std::move(name);
    if (body.empty()) body = enrollment::EnrollmentToJson(e);
    sync::Envelope envelope{sync::kEnvelopeVersion, station_id_, sequence, sync::PacketKind::kEnrollment, "t", body};
    return sync::SignEnvelope(envelope, station_key_);
  };
  auto response = ingest_->Upload(station_id_, {packet(1, ""), packet(2, "S\u00DATI NURHALIZA"), packet(3, "J\u00C9R\u00D4ME"),
                                                packet(4, "\u0418\u0412\u0410\u041D"),
                                                packet(5, "", R"({"registration_number": 5})"), packet(6, "")});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->results.size(), 6u);
  for (size_t i : {0, 1, 2, 3, 5}) {
    EXPECT_EQ(response->results[i].verdict, sync::Verdict::kAccepted) << i << ": " << response->results[i].error;
  }
  EXPECT_EQ(response->results[4].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(response->results[4].error, HasSubstr("registration_number"));
  EXPECT_EQ(Count("inbox"), 5);
  EXPECT_EQ(Count("records"), 5);
  EXPECT_EQ(Count("feed"), 5);
  EXPECT_EQ(response->cursor, 4);
  store::RecordRepository records(db_->connection(), clock_);
  for (int64_t sequence : {1, 2, 3, 6}) {
    auto record = records.FindByRegistration(enrollment::testing::RegistrationNumber(station_id_, sequence));
    ASSERT_TRUE(record.ok()) << sequence;
    EXPECT_EQ(record->state, RecordState::kValidated) << sequence;
  }
  auto refused = records.FindByRegistration(enrollment::testing::RegistrationNumber(station_id_, 4));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->state, RecordState::kFailedValidation);
  auto events = records.Events(refused->id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_THAT((*events)[1].note, HasSubstr("name: character '\u0418' (U+0418) is not allowed"));
}

TEST_P(IngestTest, AHandOverOfACardNotDispatchedToTheReportingStationIsRefusedByName) {
  const crypto::SigningKey other_key = crypto::SigningKey::Generate();
  const std::string other = RegisterStation(other_key);
  ASSERT_OK(registry_->Approve(other, "admin"));
  auto response = ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_)});
  ASSERT_OK(response.status());
  const std::string registration = enrollment::testing::RegistrationNumber(station_id_, 1);
  sync::CardActivatedBody activation;
  activation.event_id = "activate-0000000007";
  activation.registration_number = registration;
  activation.serial = 7;
  activation.nik = "3521010101900001";
  activation.at = "2026-11-24T05:00:00Z";
  activation.by = "ani";
  std::vector<pipeline::QueuedFeedItem> items;
  auto other_station = registry_->Get(other);
  ASSERT_OK(other_station.status());
  EXPECT_THAT(ActivateCard(db_->connection(), clock_, keys_, *other_station, activation, items),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(registration + " is collected at station " + station_id_ + ", not " + other)));
  auto own = registry_->Get(station_id_);
  ASSERT_OK(own.status());
  EXPECT_THAT(ActivateCard(db_->connection(), clock_, keys_, *own, activation, items),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("'s card is not on blank 0000000007")));
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(Count("hand_over_events"), 0);
}

// A card never collected comes back as card_returned: its blank is voided in the ledger (spoiled,
// uncollected) and the regency still balances; the record goes dispatched -> revoked and the
// enrolling station is told. A return naming the wrong blank is refused and changes nothing.
TEST_P(IngestTest, AReturnedUncollectedCardVoidsItsBlankAndRevokesTheRecord) {
  ASSERT_EQ(ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_)})->results[0].verdict,
            sync::Verdict::kAccepted);
  const std::string registration = enrollment::testing::RegistrationNumber(station_id_, 1);
  store::RecordRepository records(db_->connection(), clock_);
  auto record = records.FindByRegistration(registration);
  ASSERT_OK(record.status());
  RecordState at = record->state;
  for (RecordState next : {RecordState::kDedupePending, RecordState::kUnique, RecordState::kPrintReady,
                           RecordState::kPrinted, RecordState::kDispatched}) {
    ASSERT_OK(records.Transition(record->id, at, next, "admin", "test"));
    at = next;
  }
  // Printed on blank 7 at a print station of the same regency.
  TokenRequest request{"35.21.01", StationKind::kDisdukcapilOffice, {"enroll", "print"}, hours(1)};
  auto token = registry_->CreateToken(request, "admin");
  ASSERT_OK(token.status());
  const crypto::SigningKey printer_key = crypto::SigningKey::Generate();
  auto printer = registry_->Register(*token, printer_key.public_key(), crypto::SealingKey::Generate().public_key());
  ASSERT_OK(printer.status());
  ASSERT_OK(registry_->Approve(printer->id, "admin"));
  blanks::BlankLedger ledger(db_->connection(), clock_);
  ASSERT_OK(ledger.StockIn({1, 10}, "admin"));
  ASSERT_OK(ledger.Ship("35.21", {1, 10}, "admin"));
  ASSERT_OK(ledger.HandOver(printer->id, {1, 10}, "admin"));
  ASSERT_OK(ledger.Receive(printer->id, "r-1", {1, 10}).status());
  ASSERT_OK(ledger.Consume(printer->id, "p-7", 7, record->id).status());
  ASSERT_OK(db_->connection().Exec("INSERT INTO print_jobs (record_id, station_id, state, urgent, reserved_at, "
                                   "printed_at, serial) VALUES (?, ?, 'printed', 0, 't', 't', 7)",
                                   {record->id, printer->id}));
  const int64_t feed_before = ingest_->Feed(station_id_, 0, 100)->size();

  auto returned = [&](int64_t sequence, int64_t serial) {
    const sync::CardReturnedBody body{"return-" + blanks::FormatSerial(serial), registration, serial,
                                      "2026-08-20T02:00:00Z", "card uncollected, returned and voided",
                                      "2026-11-24T02:30:00Z", "sri"};
    return sync::SignEnvelope({sync::kEnvelopeVersion, station_id_, sequence, sync::PacketKind::kCardReturned,
                               "2026-11-24T02:30:00Z", sync::CardReturnedToJson(body)},
                              station_key_);
  };
  auto wrong = ingest_->Upload(station_id_, {returned(2, 8)});
  ASSERT_OK(wrong.status());
  EXPECT_EQ(wrong->results[0].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(wrong->results[0].error, HasSubstr("card_returned of card 0000000008 from station " + station_id_ + ": " +
                                                 registration + "'s card is not on blank 0000000008"));
  EXPECT_EQ(records.Get(record->id)->state, RecordState::kDispatched);
  EXPECT_EQ(ledger.Locate(7)->place, "consumed");

  auto response = ingest_->Upload(station_id_, {returned(3, 7)});
  ASSERT_OK(response.status());
  EXPECT_EQ(response->results[0].verdict, sync::Verdict::kAccepted) << response->results[0].error;
  EXPECT_EQ(records.Get(record->id)->state, RecordState::kRevoked);
  auto note = db_->connection().Query("SELECT note FROM record_events WHERE record_id = ? AND to_state = 'revoked'",
                                      {record->id});
  ASSERT_OK(note.status());
  ASSERT_EQ(note->size(), 1u);
  EXPECT_THAT((*note)[0].Text(0), HasSubstr("card uncollected, returned and voided (card 0000000007, by sri)"));
  auto voided = ledger.Locate(7);
  ASSERT_OK(voided.status());
  EXPECT_EQ(voided->place, "spoiled");
  EXPECT_EQ(voided->reason, "uncollected");
  auto reconciled = ledger.Reconcile("35.21");
  ASSERT_OK(reconciled.status());
  EXPECT_EQ(reconciled->printed, 0);
  EXPECT_EQ(reconciled->spoiled[3], 1);
  EXPECT_EQ(reconciled->on_hand.total(), 9);
  EXPECT_TRUE(reconciled->discrepancies.empty());
  auto feed = ingest_->Feed(station_id_, 0, 100);
  ASSERT_OK(feed.status());
  ASSERT_EQ(static_cast<int64_t>(feed->size()), feed_before + 1);
  EXPECT_EQ(feed->back().kind, "record_status");
  EXPECT_EQ(nlohmann::json::parse(feed->back().body)["state"], "revoked");
  // The same return again (a new packet, the same event) changes nothing.
  auto again = ingest_->Upload(station_id_, {returned(4, 7)});
  ASSERT_OK(again.status());
  EXPECT_EQ(again->results[0].verdict, sync::Verdict::kAccepted) << again->results[0].error;
  EXPECT_EQ(ingest_->Feed(station_id_, 0, 100)->size(), feed->size());
  EXPECT_EQ(Count("hand_over_events"), 1);
}

// Five operators hand over 40 cards each with about 5 % overrides; one overrides 15 of 40. Only
// that one is flagged; an operator with 5 hand-overs, all overridden, is below the minimum base.
TEST_P(IngestTest, TheIntegrityReportFlagsOnlyTheOperatorWhoseOverridesStandOut) {
  auto add = [&](const std::string& op, int n, int overrides) {
    for (int i = 0; i < n; ++i) {
      const std::string event = op + "-" + std::to_string(i);
      ASSERT_OK(db_->connection().Exec(
          "INSERT INTO hand_over_events (station_id, event_id, kind, registration_number, serial, operator, outcome, "
          "body, at, received_at) VALUES ('ST-1', ?, 'card_activated', ?, ?, ?, ?, '{}', 't', 't')",
          {event, event, int64_t{i + 1}, op, i < overrides ? "override" : "fingerprint"}));
    }
  };
  for (const char* op : {"ani", "budi", "citra", "dewi", "eko"}) add(op, 40, 2);
  add("fajar", 40, 15);
  add("gita", 5, 5);
  auto report = ComputeIntegrityReport(db_->connection());
  ASSERT_OK(report.status());
  ASSERT_EQ(report->operators.size(), 7u);
  for (const IntegrityUnit& unit : report->operators) {
    EXPECT_EQ(unit.overrides.outlier, unit.operator_name == "fajar") << unit.operator_name;
    EXPECT_EQ(unit.delegated.outlier, false);
  }
  const IntegrityUnit& fajar = report->operators[5];
  EXPECT_EQ(fajar.operator_name, "fajar");
  EXPECT_EQ(fajar.overrides.events, 15);
  EXPECT_DOUBLE_EQ(fajar.overrides.rate, 15.0 / 40);
  EXPECT_DOUBLE_EQ(fajar.overrides.peer_rate, 15.0 / 205);
  EXPECT_LT(fajar.overrides.p_value, 0.01 / 6);
  ASSERT_EQ(report->stations.size(), 1u);
  EXPECT_FALSE(report->stations[0].overrides.outlier);
  EXPECT_NEAR(BinomialUpperTail(1, 10, 0.1), 1 - std::pow(0.9, 10), 1e-12);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(0, 10, 0.1), 1.0);
}

// Enrollment body version 4: declared finger exceptions travel with their
// approver; central checks them against the sealed biometrics, counts them
// per operator, audits them, and refuses a packet that hides or alters one.
TEST_P(IngestTest, FingerExceptionsAreCheckedAgainstTheSealedBiometricsAndCounted) {
  auto with_exception = [&](int64_t sequence, bool photo, std::optional<enrollment::ExceptionApproval> approval) {
    enrollment::Enrollment e = Enrollment(sequence, station_id_);
    enrollment::Biometrics b = enrollment::testing::SampleBiometrics(3, 2000, random_);
    b.fingers.push_back({9, {}, enrollment::FingerException::kAmputated});
    if (photo) b.exception_photo = enrollment::testing::SolidJpeg(480, 360, 3, 90);
    e.sealed_biometrics = crypto::Seal(keys_.sealing.public_key(), enrollment::SerializeBiometrics(b));
    e.exception_approval = std::move(approval);
    return Packet(sequence, e, station_key_, station_id_);
  };
  const enrollment::ExceptionApproval by_sari{{{9, enrollment::FingerException::kAmputated}}, "sari", "2026-11-24T02:30:00Z"};
  const std::string op = Enrollment(1, station_id_).operator_name;
  enrollment::ExceptionApproval by_operator = by_sari;
  by_operator.approver = op;
  enrollment::ExceptionApproval altered = by_sari;
  altered.fingers = {{9, enrollment::FingerException::kBandaged}};
  auto answer = ingest_->Upload(station_id_, {with_exception(1, true, by_sari), with_exception(2, false, by_sari),
                                              with_exception(3, true, by_operator), with_exception(4, true, altered),
                                              with_exception(5, true, std::nullopt), EnrollmentPacket(6, station_key_)});
  ASSERT_OK(answer.status());
  ASSERT_EQ(answer->results.size(), 6u);
  EXPECT_EQ(answer->results[0].verdict, sync::Verdict::kAccepted) << answer->results[0].error;
  EXPECT_EQ(answer->results[1].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(answer->results[1].error, HasSubstr("declares the finger exceptions 9:amputated without the exception "
                                                  "photo of the hand"));
  EXPECT_EQ(answer->results[2].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(answer->results[2].error, HasSubstr("its finger exceptions were approved by its own operator " + op));
  EXPECT_EQ(answer->results[3].verdict, sync::Verdict::kRejected);
  EXPECT_THAT(answer->results[3].error, HasSubstr("declares the finger exceptions 9:bandaged but its sealed "
                                                  "biometrics hold 9:amputated"));
  // A body of versions 1-3 (no declaration): accepted, counted unapproved.
  EXPECT_EQ(answer->results[4].verdict, sync::Verdict::kAccepted) << answer->results[4].error;
  EXPECT_EQ(answer->results[5].verdict, sync::Verdict::kAccepted) << answer->results[5].error;
  EXPECT_EQ(Count("records"), 3);

  auto rows = db_->connection().Query("SELECT registration_number, operator, fingers, COALESCE(approver, '-') FROM "
                                      "enrollment_exception_counts ORDER BY registration_number");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].Text(1), op);
  EXPECT_EQ((*rows)[0].Int(2), 1);
  EXPECT_EQ((*rows)[0].Text(3), "sari");
  EXPECT_EQ((*rows)[1].Int(2), 1);
  EXPECT_EQ((*rows)[1].Text(3), "-");
  EXPECT_EQ((*rows)[2].Int(2), 0);
  auto audit = db_->connection().Query("SELECT actor, action, detail FROM audit_log WHERE action LIKE "
                                       "'enrollment.finger_exception%' ORDER BY seq");
  ASSERT_OK(audit.status());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].Text(0), "station:" + station_id_ + "/op:sari");
  EXPECT_EQ((*audit)[0].Text(1), "enrollment.finger_exception");
  EXPECT_THAT((*audit)[0].Text(2), HasSubstr(R"("fingers":"9:amputated")"));
  EXPECT_EQ((*audit)[1].Text(0), "central:ingest");
  EXPECT_EQ((*audit)[1].Text(1), "enrollment.finger_exception_unapproved");

  auto report = ComputeIntegrityReport(db_->connection());
  ASSERT_OK(report.status());
  ASSERT_EQ(report->stations.size(), 1u);
  EXPECT_EQ(report->stations[0].exceptions.events, 2);
  EXPECT_EQ(report->stations[0].exceptions.out_of, 3);
  EXPECT_EQ(report->stations[0].unapproved_exceptions, 1);
  ASSERT_EQ(report->operators.size(), 1u);
  EXPECT_EQ(report->operators[0].operator_name, op);
  EXPECT_EQ(report->operators[0].exceptions.events, 2);
}

// Four operators declare an exception in about 1 of 40 enrollments; one in
// 12 of 40: that one, and their station against the other station, are flagged.
TEST_P(IngestTest, TheIntegrityReportFlagsTheOperatorAndStationWhoseExceptionsStandOut) {
  auto add = [&](const std::string& station, const std::string& op, int n, int excepted) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(db_->connection().Exec(
          "INSERT INTO enrollment_exception_counts (registration_number, station_id, operator, fingers, approver, "
          "received_at) VALUES (?, ?, ?, ?, ?, 't')",
          {station + "-" + op + "-" + std::to_string(i), station, op, int64_t{i < excepted ? 1 : 0},
           i < excepted ? store::Value("sari") : store::Value()}));
    }
  };
  add("ST-1", "ani", 40, 1);
  add("ST-1", "budi", 40, 1);
  add("ST-2", "citra", 40, 1);
  add("ST-2", "dewi", 40, 12);
  add("ST-3", "eko", 40, 2);
  auto report = ComputeIntegrityReport(db_->connection());
  ASSERT_OK(report.status());
  ASSERT_EQ(report->operators.size(), 5u);
  for (const IntegrityUnit& unit : report->operators) {
    EXPECT_EQ(unit.exceptions.outlier, unit.operator_name == "dewi") << unit.operator_name;
    EXPECT_EQ(unit.unapproved_exceptions, 0);
  }
  const IntegrityUnit& dewi = report->operators[3];
  EXPECT_EQ(dewi.operator_name, "dewi");
  EXPECT_EQ(dewi.exceptions.events, 12);
  EXPECT_EQ(dewi.exceptions.out_of, 40);
  EXPECT_DOUBLE_EQ(dewi.exceptions.peer_rate, 5.0 / 160);
  ASSERT_EQ(report->stations.size(), 3u);
  EXPECT_FALSE(report->stations[0].exceptions.outlier);
  EXPECT_TRUE(report->stations[1].exceptions.outlier);
  EXPECT_EQ(report->stations[1].exceptions.events, 13);
  EXPECT_FALSE(report->stations[2].exceptions.outlier);
}

// The scrape-time figures of central's /metrics (central/metrics.h) on both
// backends; MetricsTest.Central* scrapes them from a real server.
TEST_P(IngestTest, MetricsCollectedFromTheDatabase) {
  ASSERT_OK(ingest_->Upload(station_id_, {EnrollmentPacket(1, station_key_), EnrollmentPacket(2, station_key_)}).status());
  ASSERT_OK(db_->connection().Exec("UPDATE stations SET last_contact_at = ? WHERE id = ?",
                                   {FormatTimestamp(clock_.Now()), station_id_}));
  clock_.Advance(std::chrono::seconds(42));
  service::MetricsRegistry registry;
  ASSERT_OK(CollectCentralMetrics(db_->connection(), clock_, registry));
  const service::Labels station = {{"station", station_id_}};
  EXPECT_EQ(registry.GetGauge("ektp_central_records", "", {{"state", "validated"}}).value(), 2);
  EXPECT_EQ(registry.GetGauge("ektp_central_records", "", {{"state", "activated"}}).value(), 0);
  EXPECT_EQ(registry.GetGauge("ektp_pipeline_queue_depth", "", {{"stage", "demographics"}}).value(), 2);
  EXPECT_EQ(registry.GetGauge("ektp_pipeline_dead_jobs", "", {{"stage", "dedupe"}}).value(), 0);
  EXPECT_EQ(registry.GetGauge("ektp_central_adjudication_backlog", "").value(), 0);
  EXPECT_EQ(registry.GetGauge("ektp_central_station_sync_lag_seconds", "", station).value(), 42);
  EXPECT_EQ(registry.GetGauge("ektp_central_station_last_sync_timestamp_seconds", "", station).value(),
            UnixSeconds(clock_.Now()) - 42);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::central
