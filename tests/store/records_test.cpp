#include <gtest/gtest.h>

#include "npcl/store/records.hpp"
#include "npcl/store/store_error.hpp"

namespace npcl::store {
namespace {

TEST(records, caller_ids_normalise_to_ten_digits) {
  EXPECT_EQ(normalize_phone("+91 90000 00001"), "9000000001");
  EXPECT_EQ(normalize_phone("919000000001"), "9000000001");
  EXPECT_EQ(normalize_phone("09000000001"), "9000000001");
  EXPECT_EQ(normalize_phone("(900) 000-0001"), "9000000001");
  EXPECT_EQ(normalize_phone("+44 20 7946 0000"), "442079460000");
  EXPECT_EQ(normalize_phone("9000x00001"), "");
  EXPECT_EQ(normalize_phone("90+00000001"), "");
}

TEST(records, complaint_numbers_are_nine_digits_and_read_back_without_zeros) {
  EXPECT_EQ(format_complaint_number(54321), "000054321");
  EXPECT_EQ(parse_complaint_number("000054321"), 54321);
  EXPECT_EQ(parse_complaint_number("54321"), 54321);
  EXPECT_FALSE(parse_complaint_number(""));
  EXPECT_FALSE(parse_complaint_number("0"));
  EXPECT_FALSE(parse_complaint_number("1234567890"));
  EXPECT_FALSE(parse_complaint_number("-5"));
  EXPECT_THROW(format_complaint_number(1'000'000'000), store_error);
}

TEST(records, enum_names_round_trip) {
  for (auto c : {complaint_category::no_supply, complaint_category::voltage, complaint_category::billing,
                 complaint_category::meter, complaint_category::streetlight, complaint_category::safety_hazard,
                 complaint_category::other}) {
    EXPECT_EQ(parse_complaint_category(to_string(c)), c);
  }
  EXPECT_EQ(parse_import_kind("bills"), import_kind::bills);
  EXPECT_FALSE(parse_import_kind("Bills"));
  EXPECT_FALSE(parse_complaint_priority("urgent"));
}

}  // namespace
}  // namespace npcl::store
