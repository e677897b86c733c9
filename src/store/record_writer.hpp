#pragma once
#include <string>

#include "npcl/store/records.hpp"

namespace npcl::store::detail {

/// Writes records inside the backend's open transaction. Each call throws store_error on a
/// database failure (the import is then rolled back as a whole).
class record_writer {
 public:
  virtual ~record_writer() = default;
  /// Whether a consumer with this number exists (bills need one).
  virtual bool consumer_exists(const std::string& number) = 0;
  /// Inserts or updates by consumer number; also marks its area served.
  virtual void upsert(const consumer& c) = 0;
  /// Inserts or updates by (consumer, period).
  virtual void upsert(const bill& b) = 0;
  /// Inserts or updates by (area, sector, start); also marks its area served.
  virtual void upsert(const outage& o) = 0;
};

}  // namespace npcl::store::detail
