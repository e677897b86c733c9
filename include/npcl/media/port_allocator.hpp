#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace npcl::media {

class port_allocator;

/// A UDP port borrowed from the allocator; returned when destroyed.
class port_lease {
 public:
  port_lease() = default;
  port_lease(std::shared_ptr<port_allocator> owner, std::uint16_t port) : owner_(std::move(owner)), port_(port) {}
  port_lease(port_lease&& other) noexcept;
  port_lease& operator=(port_lease&& other) noexcept;
  ~port_lease();
  std::uint16_t port() const { return port_; }
  explicit operator bool() const { return owner_ != nullptr; }

 private:
  std::shared_ptr<port_allocator> owner_;  ///< null when empty or moved from
  std::uint16_t port_ = 0;                 ///< the leased UDP port
};

/// Hands out ports of RTP_PORT_MIN..MAX round-robin so a port just released is
/// not reused at once (late packets of the old call would land in the new
/// one). Thread-safe. Create with std::make_shared.
class port_allocator : public std::enable_shared_from_this<port_allocator> {
 public:
  port_allocator(std::uint16_t first, std::uint16_t last);
  /// A free port, or nullopt when every port is leased.
  std::optional<port_lease> acquire();
  /// Ports currently leased.
  std::size_t in_use() const;
  /// Ports in the range.
  std::size_t size() const { return used_.size(); }

 private:
  friend class port_lease;
  void release(std::uint16_t port);
  mutable std::mutex mutex_;      ///< guards used_ and next_
  std::uint16_t first_;           ///< first port of the range
  std::vector<bool> used_;        ///< used_[p - first_] while p is leased
  std::size_t next_ = 0;          ///< where the round-robin search starts
  std::size_t in_use_ = 0;        ///< number of leased ports
};

}  // namespace npcl::media
