#pragma once
#include "npcl/store/records.hpp"
#include "store/record_writer.hpp"

namespace npcl::store::detail {

/// Writes the fictional demo records (consumers 9990000001.., area "Demo Nagar"), unless demo
/// consumer 9990000001 already exists. Bill periods and outages are placed relative to `now`.
void write_demo_data(record_writer& writer, timestamp now);

}  // namespace npcl::store::detail
