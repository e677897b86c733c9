#include "npcl/obs/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "obs/text_lines.hpp"

namespace {

using npcl::test::split_lines;
using npcl::obs::metrics_registry;

TEST(counter, increments_from_eight_threads_add_up) {
  metrics_registry registry;
  constexpr int threads = 8, per_thread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&registry, t] {
      // Every thread asks for the series itself: creation must be race-free too.
      auto& c = registry.get_counter("npcl_calls_total", "Calls answered.", {{"outcome", "ok"}});
      for (int i = 0; i < per_thread; ++i) c.inc(t % 2 == 0 ? 1 : 2);
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(registry.get_counter("npcl_calls_total", "Calls answered.", {{"outcome", "ok"}}).value(),
            std::uint64_t{per_thread} * (4 * 1 + 4 * 2));
}

TEST(gauge, adds_and_sets_from_threads) {
  metrics_registry registry;
  auto& g = registry.get_gauge("npcl_active_calls", "Calls in progress.");
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&g] {
      for (int i = 0; i < 1000; ++i) g.add(0.5);
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_DOUBLE_EQ(g.value(), 4000.0);
  g.set(-2.5);
  EXPECT_DOUBLE_EQ(g.value(), -2.5);
}

TEST(histogram, buckets_are_cumulative_and_bounds_inclusive) {
  npcl::obs::histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 7.0, 11.0, 1e9}) h.observe(v);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{2, 4, 5, 7}));
  EXPECT_EQ(h.count(), 7u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.05 + 0.1 + 0.5 + 1.0 + 7.0 + 11.0 + 1e9);
}

TEST(histogram, rejects_unsorted_bounds_and_ignores_nan) {
  EXPECT_THROW(npcl::obs::histogram({1, 0.5}), std::invalid_argument);
  EXPECT_THROW(npcl::obs::histogram({1, 1}), std::invalid_argument);
  npcl::obs::histogram h({1});
  h.observe(std::nan(""));
  EXPECT_EQ(h.count(), 0u);
}

TEST(latency_buckets, span_half_a_millisecond_to_ten_seconds) {
  const auto b = npcl::obs::latency_buckets();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 0.0005);
  EXPECT_DOUBLE_EQ(b.back(), 10.0);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
  EXPECT_NO_THROW(npcl::obs::histogram{b});
}

TEST(registry, returns_same_series_for_same_labels_in_any_order) {
  metrics_registry registry;
  auto& a = registry.get_counter("npcl_x_total", "x", {{"a", "1"}, {"b", "2"}});
  auto& b = registry.get_counter("npcl_x_total", "x", {{"b", "2"}, {"a", "1"}});
  auto& other = registry.get_counter("npcl_x_total", "x", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
}

TEST(registry, same_name_with_another_type_throws) {
  metrics_registry registry;
  registry.get_counter("npcl_thing", "a counter");
  EXPECT_THROW(registry.get_gauge("npcl_thing", "now a gauge"), std::logic_error);
  EXPECT_THROW(registry.get_histogram("npcl_thing", "now a histogram", {1}), std::logic_error);
  registry.get_histogram("npcl_h", "h", {1, 2});
  EXPECT_THROW(registry.get_histogram("npcl_h", "h", {1, 3}, {{"k", "v"}}), std::logic_error);
}

TEST(registry, rejects_invalid_names) {
  metrics_registry registry;
  EXPECT_THROW(registry.get_counter("9lives", "bad"), std::invalid_argument);
  EXPECT_THROW(registry.get_counter("has-dash", "bad"), std::invalid_argument);
  EXPECT_THROW(registry.get_counter("ok_name", "bad", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.get_histogram("ok_hist", "bad", {1}, {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.get_counter("ok_name", "bad", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
}

TEST(registry, renders_prometheus_text) {
  metrics_registry registry;
  registry.get_counter("npcl_calls_total", "Calls \\ answered.\nSecond line", {{"outcome", "ok"}}).inc(3);
  registry.get_counter("npcl_calls_total", "Calls \\ answered.\nSecond line", {{"outcome", "a\"b\\c\nd"}}).inc();
  registry.get_gauge("npcl_active_calls", "Calls in progress.").set(2.5);
  auto& h = registry.get_histogram("npcl_latency_seconds", "Latency.", {0.5, 1}, {{"leg", "openai"}});
  h.observe(0.25);
  h.observe(0.75);
  h.observe(4);

  const std::vector<std::string> expected{
      "# HELP npcl_active_calls Calls in progress.",
      "# TYPE npcl_active_calls gauge",
      "npcl_active_calls 2.5",
      "# HELP npcl_calls_total Calls \\\\ answered.\\nSecond line",
      "# TYPE npcl_calls_total counter",
      "npcl_calls_total{outcome=\"a\\\"b\\\\c\\nd\"} 1",
      "npcl_calls_total{outcome=\"ok\"} 3",
      "# HELP npcl_latency_seconds Latency.",
      "# TYPE npcl_latency_seconds histogram",
      "npcl_latency_seconds_bucket{leg=\"openai\",le=\"0.5\"} 1",
      "npcl_latency_seconds_bucket{leg=\"openai\",le=\"1\"} 2",
      "npcl_latency_seconds_bucket{leg=\"openai\",le=\"+Inf\"} 3",
      "npcl_latency_seconds_sum{leg=\"openai\"} 5",
      "npcl_latency_seconds_count{leg=\"openai\"} 3",
  };
  const std::string text = registry.render();
  EXPECT_EQ(split_lines(text), expected) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
