#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace npcl::media {

/// Counters of one call's media, for the call summary and /metrics.
struct media_stats {
  std::uint64_t packets_in = 0;       ///< valid packets/frames received from Asterisk
  std::uint64_t packets_out = 0;      ///< packets/frames sent to Asterisk
  std::uint64_t bytes_in = 0;         ///< audio payload bytes received
  std::uint64_t bytes_out = 0;        ///< audio payload bytes sent
  std::uint64_t foreign_dropped = 0;  ///< packets from a source other than Asterisk's
  std::uint64_t malformed = 0;        ///< packets rejected by validation
};

/// One call's externalMedia audio connection, whatever the transport. Lives on
/// its call's strand; every method must be called there.
class media_endpoint {
 public:
  virtual ~media_endpoint() = default;
  /// The `external_host` value for POST /channels/externalMedia ("host:port").
  virtual std::string external_host() const = 0;
  /// Learns Asterisk's side from the externalMedia reply's channelvars.
  virtual void set_peer(const std::map<std::string, std::string>& channel_vars) = 0;
  /// Counters so far.
  virtual media_stats stats() const = 0;
  /// Closes sockets and cancels pending operations; idempotent.
  virtual void close() = 0;
};

}  // namespace npcl::media
