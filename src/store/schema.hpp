#pragma once
#include <string>
#include <vector>

namespace npcl::store::detail {

/// One schema step. Versions start at 1 and increase by one; a step never changes once released.
struct migration {
  int version;       ///< schema version this step brings the database to
  std::string name;  ///< short description, recorded in schema_migrations
  std::string sql;   ///< the DDL script, several statements allowed
};

/// The SQL flavours the schema is written for.
enum class sql_dialect { sqlite, postgres };

/// Every schema step in `dialect`, oldest first. Both dialects get the same tables and columns;
/// they differ only in how numbers are allocated (AUTOINCREMENT in SQLite, sequences in
/// PostgreSQL, so concurrent daemons never hand out the same complaint number).
std::vector<migration> schema_migrations(sql_dialect dialect);

}  // namespace npcl::store::detail
