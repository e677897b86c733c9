#pragma once
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace npcl::store::detail {

/// Reads RFC 4180 CSV: comma-separated, fields optionally in double quotes, "" for a quote
/// inside quotes, quoted fields may span lines, LF or CRLF line ends, a UTF-8 BOM ignored.
class csv_reader {
 public:
  /// One record and where it started.
  struct row {
    std::size_t line{0};              ///< 1-based line number of the record's first line
    std::vector<std::string> fields;  ///< cell values, unquoted
    std::string error;                ///< non-empty when the record is malformed (then skip it)
  };

  /// Reads from `in`, which must outlive the reader.
  explicit csv_reader(std::istream& in) : in_(in) {}

  /// The next record, or empty at end of input. Blank lines are skipped.
  std::optional<row> next();

 private:
  std::istream& in_;        ///< the CSV text
  std::size_t line_{0};     ///< lines consumed so far
  bool bom_checked_{false};  ///< whether the first bytes were checked for a BOM
};

/// Longest accepted cell, in bytes; longer cells make the row malformed.
inline constexpr std::size_t max_csv_field = 4096;

}  // namespace npcl::store::detail
