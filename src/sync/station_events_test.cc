#include "sync/station_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::sync {
namespace {

using ::ektp::testing::StatusIs;

TEST(StationEventsTest, EachBodyRoundTrips) {
  BlanksReceivedBody received{"receive-1-5", 1, 5, "2026-12-05T01:00:00Z", "budi"};
  EXPECT_EQ(*BlanksReceivedFromJson(BlanksReceivedToJson(received)), received);
  CardPrintedBody printed{"print-7", 7, "ST-352101-01-000001", 3, "2026-12-05T02:00:00Z", "budi"};
  EXPECT_EQ(*CardPrintedFromJson(CardPrintedToJson(printed)), printed);
  BlankSpoiledBody spoiled{"spoil-4", 4, "printer_jam", "", 0, "2026-12-05T03:00:00Z", "budi"};
  EXPECT_EQ(*BlankSpoiledFromJson(BlankSpoiledToJson(spoiled)), spoiled);
  CardMisprintedBody misprinted{"misprint-3", 7, "ST-352101-01-000001", 3, "foto bergeser", "2026-12-05T04:00:00Z",
                                "budi"};
  EXPECT_EQ(*CardMisprintedFromJson(CardMisprintedToJson(misprinted)), misprinted);
  CardsDispatchedBody dispatched{"dispatch-0000000003", "ST-352101-01", {{7, "R-1", 3}, {8, "R-2", 5}},
                                 "2026-12-05T05:00:00Z", "budi"};
  EXPECT_EQ(*CardsDispatchedFromJson(CardsDispatchedToJson(dispatched)), dispatched);
  FingerprintCheckedBody checked{"check-3-1", "R-1", 3, 1, false, 41.5, 106.25, 2, "2026-12-05T06:00:00Z", "ani"};
  EXPECT_EQ(*FingerprintCheckedFromJson(FingerprintCheckedToJson(checked)), checked);
  PickupOverrideBody override_body{"override-3", "R-1", 3, 3, "jari luka bakar", "2026-12-05T06:05:00Z", "sri"};
  EXPECT_EQ(*PickupOverrideFromJson(PickupOverrideToJson(override_body)), override_body);
  CardActivatedBody self{"activate-3", "R-1", 3, "3521010101900001", HandOverBasis::kFingerprint,
                         "", "", "", "", "", "2026-12-05T06:10:00Z", "ani"};
  EXPECT_EQ(*CardActivatedFromJson(CardActivatedToJson(self)), self);
  CardActivatedBody delegated{"activate-5", "R-2", 5, "3521010101900002", HandOverBasis::kDelegated,
                              "Siti", "3521014101850003", "spouse", "3521010101900002", "OLD-77",
                              "2026-12-05T06:20:00Z", "ani"};
  EXPECT_EQ(*CardActivatedFromJson(CardActivatedToJson(delegated)), delegated);
  SuketIssuedBody suket{"SKT-1", "SKT-1", "R-1", "", "2026-12-05T06:00:00Z", "2027-06-05T06:00:00Z", "", "ani"};
  EXPECT_EQ(*SuketIssuedFromJson(SuketIssuedToJson(suket)), suket);
  CardReturnedBody returned{"return-5", "R-2", 5, "2026-08-01T02:00:00Z", "card uncollected, returned and voided",
                            "2026-12-05T07:00:00Z", "sri"};
  EXPECT_EQ(*CardReturnedFromJson(CardReturnedToJson(returned)), returned);
}

TEST(StationEventsTest, MalformedBodiesAreRefusedNamingTheField) {
  EXPECT_THAT(BlanksReceivedFromJson("[]"), StatusIs(StatusCode::kInvalidArgument, "body is not a JSON object"));
  EXPECT_THAT(BlanksReceivedFromJson(R"({"event_id":"e","first_serial":5,"last_serial":4,"received_at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'last_serial' 4 is before 'first_serial' 5"));
  EXPECT_THAT(CardPrintedFromJson(R"({"event_id":"e","job_id":0,"registration_number":"r","serial":1,"printed_at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'job_id' must be a positive integer"));
  EXPECT_THAT(CardPrintedFromJson(R"({"job_id":1,"registration_number":"r","serial":1,"printed_at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body has no 'event_id'"));
  EXPECT_THAT(BlankSpoiledFromJson(R"({"event_id":"e","serial":1,"reason":"","at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'reason' must be a non-empty string"));
  EXPECT_THAT(CardMisprintedFromJson(R"({"event_id":"e","job_id":1,"registration_number":"r","at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'serial' must be a positive integer"));
  EXPECT_THAT(CardsDispatchedFromJson(R"({"event_id":"e","to_station":"s","cards":[],"at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'cards' must be an array of 1 to 1000 items"));
  EXPECT_THAT(CardsDispatchedFromJson(R"({"event_id":"e","to_station":"s","cards":[{"job_id":1,"serial":2}],"at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body has no 'registration_number'"));
  EXPECT_THAT(FingerprintCheckedFromJson(R"({"event_id":"e","registration_number":"r","serial":1,"attempt":1,"passed":"yes","score":1,"threshold":1,"at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'passed' must be true or false"));
  EXPECT_THAT(CardActivatedFromJson(R"({"event_id":"e","registration_number":"r","serial":1,"nik":"n","basis":"trust","at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("unknown hand-over basis 'trust'")));
  EXPECT_THAT(CardActivatedFromJson(R"({"event_id":"e","registration_number":"r","serial":1,"nik":"n","basis":"delegated","collector":{"name":"s","nik":"m","relation":"spouse"},"at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "a delegated hand-over has no 'surrendered_ktp'"));
  EXPECT_THAT(CardReturnedFromJson(R"({"event_id":"e","registration_number":"r","serial":-1,"received_at":"t","reason":"x","at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body field 'serial' must be a positive integer"));
  EXPECT_THAT(CardReturnedFromJson(R"({"event_id":"e","registration_number":"r","serial":1,"received_at":"t","at":"t","by":"b"})"),
              StatusIs(StatusCode::kInvalidArgument, "body has no 'reason'"));
}

}  // namespace
}  // namespace ektp::sync
