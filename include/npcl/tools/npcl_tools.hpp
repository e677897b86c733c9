#pragma once

namespace npcl::store {
class store;
}  // namespace npcl::store

namespace npcl::tools {

class registry;

/// Adds the customer-service tools that read and write the utility's records:
/// lookup_consumer, get_bill_summary, register_complaint, get_complaint_status,
/// get_outage_status, request_new_connection and check_service_area.
/// All of them are blocking (they run on the registry's pool, never on a call's strand) and
/// answer only with what the store returned: amounts as rupees with paise ("1234.50"),
/// numbers also spelled digit by digit for reading out ("0 0 0 0 5 4 3 2 1"), times as
/// ISO 8601 in India Standard Time. A missing record gives {"error":"not_found",...}; a
/// database that cannot be reached gives {"error":"unavailable",...}, never an exception.
/// The two writing tools (register_complaint, request_new_connection) have a 15 s deadline,
/// the look-ups the registry's default; both record the id of the call they run in.
/// `s` must outlive the registry and every call in flight.
/// Throws std::invalid_argument if one of these tools is already registered.
void add_npcl_tools(registry& r, store::store& s);

}  // namespace npcl::tools
