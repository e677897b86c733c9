#pragma once
// CSV rows to typed records, shared by both backends; the backend writes them in one transaction.
#include <optional>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "npcl/store/records.hpp"
#include "store/record_writer.hpp"

namespace npcl::store::detail {

/// Parses the CSV and writes every good row through `writer`. Rows with a bad cell, a wrong
/// column count, or (bills) an unknown consumer are listed with their line number. Throws
/// store_error(invalid) when the header lacks a required column.
import_result import_rows(import_kind kind, std::istream& csv, record_writer& writer);

/// Parses a time cell: Unix seconds, or "YYYY-MM-DD HH:MM[:SS]" / "YYYY-MM-DDTHH:MM[:SS]" in UTC.
std::optional<timestamp> parse_time_cell(const std::string& cell);

}  // namespace npcl::store::detail
