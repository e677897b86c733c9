#include "npcl/media/port_allocator.hpp"

namespace npcl::media {

port_lease::port_lease(port_lease&& other) noexcept : owner_(std::move(other.owner_)), port_(other.port_) {
  other.owner_.reset();
}

port_lease& port_lease::operator=(port_lease&& other) noexcept {
  if (this != &other) {
    if (owner_) owner_->release(port_);
    owner_ = std::move(other.owner_);
    port_ = other.port_;
    other.owner_.reset();
  }
  return *this;
}

port_lease::~port_lease() {
  if (owner_) owner_->release(port_);
}

port_allocator::port_allocator(std::uint16_t first, std::uint16_t last)
    : first_(first), used_(last >= first ? static_cast<std::size_t>(last - first) + 1 : 0) {}

std::optional<port_lease> port_allocator::acquire() {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < used_.size(); ++i) {
    std::size_t slot = (next_ + i) % used_.size();
    if (!used_[slot]) {
      used_[slot] = true;
      ++in_use_;
      next_ = (slot + 1) % used_.size();
      return port_lease(shared_from_this(), static_cast<std::uint16_t>(first_ + slot));
    }
  }
  return std::nullopt;
}

std::size_t port_allocator::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

void port_allocator::release(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  std::size_t slot = port - first_;
  if (slot < used_.size() && used_[slot]) {
    used_[slot] = false;
    --in_use_;
  }
}

}  // namespace npcl::media
