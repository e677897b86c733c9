#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace npcl::obs {

using labels = std::vector<std::pair<std::string, std::string>>;

/// Monotonic counter; lock-free increments from any thread.
class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};  ///< events counted since start
};

/// Value that goes up and down; lock-free from any thread.
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};  ///< current value, unit given by the metric name
};

/// Cumulative histogram with fixed upper bounds (Prometheus semantics).
class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  std::uint64_t count() const noexcept;
  double sum() const noexcept;
  /// Cumulative count of observations <= bounds()[i]; the last entry is +Inf.
  std::vector<std::uint64_t> cumulative_counts() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;                         ///< upper bounds, ascending, unit of the metric
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  ///< per-bucket (non-cumulative) counts, +Inf last
  std::atomic<std::uint64_t> count_{0};                ///< observations
  std::atomic<double> sum_{0};                         ///< sum of observed values
};

/// Owns every metric of one daemon and renders them as Prometheus text 0.0.4.
/// Getters create a series on first use and return the same object after;
/// references stay valid for the registry's lifetime. Thread-safe.
class metrics_registry {
 public:
  metrics_registry();
  /// Out of line: `family` is defined only in metrics.cpp.
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const std::vector<double>& bounds, const labels& l = {});
  /// The exposition text, families sorted by name, with # HELP and # TYPE lines.
  std::string render() const;

 private:
  struct family;
  family& family_for(const std::string& name, const std::string& help, int kind);
  mutable std::mutex mutex_;                          ///< guards families_
  std::map<std::string, std::unique_ptr<family>> families_;  ///< by metric name
};

/// Latency buckets in seconds, 0.5 ms .. 10 s.
std::vector<double> latency_buckets();

}  // namespace npcl::obs
