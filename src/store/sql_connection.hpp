#pragma once
// The little both backends share: run parameterised SQL on one connection, get text cells back.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace npcl::store::detail {

/// A query parameter: NULL, text or a 64-bit integer.
using sql_param = std::variant<std::nullptr_t, std::string, std::int64_t>;

/// One result row; NULL cells are empty optionals, everything else is its text form.
using sql_row = std::vector<std::optional<std::string>>;

/// One database connection, used by one thread at a time. SQL uses $1, $2 ... placeholders and
/// values travel only as parameters. Failures throw store_error: `conflict` for a constraint
/// violation or serialisation failure, `unavailable` for anything else.
class sql_connection {
 public:
  virtual ~sql_connection() = default;

  /// Runs one statement with `params` bound to $1.. and returns its rows.
  virtual std::vector<sql_row> query(std::string_view sql, const std::vector<sql_param>& params) = 0;

  /// Runs a script of several statements without parameters (migrations, BEGIN, COMMIT).
  virtual void exec_script(std::string_view sql) = 0;

  /// The statement that opens a write transaction on this backend.
  virtual const char* begin_write_sql() const = 0;
};

/// Exclusive use of a connection until destroyed (then it goes back to its owner).
using connection_lease = std::unique_ptr<sql_connection, std::function<void(sql_connection*)>>;

}  // namespace npcl::store::detail
