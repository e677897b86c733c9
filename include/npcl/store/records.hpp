#pragma once
// Typed records kept by the store. Times are Unix seconds (UTC); money is in paise.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::store {

/// A point in time, second resolution, UTC.
using timestamp = std::chrono::sys_seconds;

/// Supply state of a connection.
enum class consumer_status { active, disconnected, temporarily_disconnected };

/// One electricity connection as the utility knows it.
struct consumer {
  std::string number;             ///< consumer (account) number, digits, unique
  std::string masked_name;        ///< holder's name as safe to read out, e.g. "R**** K****"
  std::string registered_mobile;  ///< normalised to 10 digits (no +91 / leading 0), may be empty
  std::string area;               ///< area / locality name as the utility spells it
  std::string sector;             ///< sector or feeder within the area, may be empty
  consumer_status status{consumer_status::active};  ///< supply state
  bool operator==(const consumer&) const = default;
};

/// Payment state of a bill.
enum class bill_status { unpaid, paid, overdue };

/// One bill of one consumer for one billing period.
struct bill {
  std::string consumer_number;  ///< the consumer billed
  std::string period;           ///< billing month "YYYY-MM"
  std::int64_t amount_paise{0};  ///< amount due in paise (1/100 rupee), >= 0
  std::string due_date;         ///< "YYYY-MM-DD"
  bill_status status{bill_status::unpaid};  ///< payment state
  bool operator==(const bill&) const = default;
};

/// Whether an outage was announced in advance.
enum class outage_kind { planned, unplanned };

/// A supply interruption in an area.
struct outage {
  std::int64_t id{0};           ///< database id, assigned by the store
  std::string area;             ///< affected area
  std::string sector;           ///< affected sector, empty for the whole area
  outage_kind kind{outage_kind::unplanned};  ///< planned maintenance or fault
  timestamp start{};            ///< when supply went / goes off
  std::optional<timestamp> eta;  ///< expected restoration, unknown when empty
  std::string note;             ///< short reason safe to read out
};

/// What a complaint is about.
enum class complaint_category { no_supply, voltage, billing, meter, streetlight, safety_hazard, other };

/// How urgently a complaint must be handled.
enum class complaint_priority { normal, high, emergency };

/// Where a complaint is in its handling.
enum class complaint_status { registered, assigned, in_progress, resolved, closed };

/// A complaint as taken on a call, before the database numbers it.
struct new_complaint {
  std::string consumer_number;  ///< may be empty when the caller does not know it
  complaint_category category{complaint_category::other};  ///< what it is about
  std::string area;             ///< area of the fault, required
  std::string address;          ///< address or landmark, may be empty
  std::string description;      ///< what the caller reported, required, <= 2000 bytes
  std::string callback_number;  ///< number to call back, normalised like registered_mobile
  complaint_priority priority{complaint_priority::normal};  ///< urgency
  timestamp expected_resolution{};  ///< when the caller was told it will be resolved
  std::string call_id;          ///< the call it was taken on, may be empty
};

/// A committed complaint: the number exists in the database once this is returned.
struct complaint : new_complaint {
  std::string number;           ///< 9 digits zero-padded, e.g. "000054321"
  complaint_status status{complaint_status::registered};  ///< handling state
  timestamp created_at{};       ///< when it was committed
};

/// An application for a new connection, before the database numbers it.
struct new_connection_request {
  std::string applicant_name;   ///< as given by the caller, required
  std::string mobile;           ///< contact number, normalised like registered_mobile
  std::string area;             ///< where the connection is wanted, required
  std::string address;          ///< full address, required
  std::string load_category;    ///< e.g. "domestic", "commercial"; may be empty
  std::string call_id;          ///< the call it was taken on, may be empty
};

/// A committed connection request.
struct connection_request : new_connection_request {
  std::string reference;        ///< "NC-<year>-<6 digits>", e.g. "NC-2026-000123"
  std::string status;           ///< "received" when created
  timestamp created_at{};       ///< when it was committed
};

/// What the daemon keeps about one call, written when the call ends.
struct call_record {
  std::string call_id;          ///< our call id (UUID), unique
  std::string caller_number;    ///< caller id as Asterisk gave it
  timestamp started{};          ///< when the call was answered
  std::optional<timestamp> ended;  ///< when it ended; empty while it lasts
  std::string language;         ///< language code the call ended in, e.g. "hi"
  std::string outcome;          ///< e.g. "resolved", "transferred", "abandoned"
  std::string transcript_json;  ///< JSON array of transcript lines, stored verbatim
  std::string tool_calls_json;  ///< JSON array of tool calls, stored verbatim
  std::int64_t input_tokens{0};   ///< Realtime input tokens used by the call
  std::int64_t output_tokens{0};  ///< Realtime output tokens used by the call
  bool operator==(const call_record&) const = default;
};

/// Which table a CSV import fills.
enum class import_kind { consumers, bills, outages };

/// One CSV row that was not imported.
struct import_error {
  std::size_t line{0};  ///< 1-based line number in the file (the header is line 1)
  std::string reason;   ///< why it was rejected, naming the column
};

/// Outcome of a CSV import: good rows are committed together, bad rows are listed.
struct import_result {
  std::size_t imported{0};          ///< rows inserted or updated
  std::vector<import_error> errors;  ///< rows skipped, in file order
};

/// Names used in the database, CSV files and tool outputs, e.g. "no_supply".
std::string_view to_string(consumer_status v) noexcept;
std::string_view to_string(bill_status v) noexcept;
std::string_view to_string(outage_kind v) noexcept;
std::string_view to_string(complaint_category v) noexcept;
std::string_view to_string(complaint_priority v) noexcept;
std::string_view to_string(complaint_status v) noexcept;
std::string_view to_string(import_kind v) noexcept;

/// Inverse of to_string; empty for an unknown name (exact, lower-case match).
std::optional<consumer_status> parse_consumer_status(std::string_view s) noexcept;
std::optional<bill_status> parse_bill_status(std::string_view s) noexcept;
std::optional<outage_kind> parse_outage_kind(std::string_view s) noexcept;
std::optional<complaint_category> parse_complaint_category(std::string_view s) noexcept;
std::optional<complaint_priority> parse_complaint_priority(std::string_view s) noexcept;
std::optional<complaint_status> parse_complaint_status(std::string_view s) noexcept;
std::optional<import_kind> parse_import_kind(std::string_view s) noexcept;

/// Reduces an Indian phone number to its 10 national digits: drops spaces, dashes, a "+91"
/// or "91" prefix and a trunk "0". Other lengths keep their digits. Empty when `s` holds
/// anything but digits, spaces, dashes, parentheses and one leading '+'.
std::string normalize_phone(std::string_view s);

/// Formats a complaint id as its 9-digit number ("000054321"). `id` must be in [1, 999999999].
std::string format_complaint_number(std::int64_t id);

/// Parses a complaint number as a caller may say it: 1 to 9 digits, leading zeros optional.
/// Empty for anything else, including zero.
std::optional<std::int64_t> parse_complaint_number(std::string_view s) noexcept;

}  // namespace npcl::store
