#include "audio/dot_product.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using npcl::audio::dot_product;

namespace {

double reference(const std::vector<float>& a, const std::vector<float>& b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

}  // namespace

// The echo guard and the pitch search rank lags by this sum: every length
// (vector body, scalar tail, both, neither) must give the exact sum to within
// float rounding, and unaligned starts must read the right samples.
TEST(dot_product, matches_a_double_sum_for_every_length_and_offset) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(1100), b(1100);
  for (auto& x : a) x = u(gen);
  for (auto& x : b) x = u(gen);
  for (std::size_t n : {0U, 1U, 7U, 15U, 16U, 17U, 31U, 128U, 160U, 1024U, 1099U}) {
    for (std::size_t offset : {0U, 1U}) {
      if (n + offset > a.size()) continue;
      const std::vector<float> sa(a.begin() + offset, a.end());
      const std::vector<float> sb(b.begin() + offset, b.end());
      const double want = reference(sa, sb, n);
      const float got = dot_product(a.data() + offset, b.data() + offset, n);
      EXPECT_NEAR(got, want, 1e-4 * std::max(1.0, std::sqrt(static_cast<double>(n)))) << n << " @" << offset;
    }
  }
}

TEST(dot_product, energy_of_a_signal_is_its_sum_of_squares) {
  std::vector<float> x(160, 0.5f);
  EXPECT_FLOAT_EQ(dot_product(x.data(), x.data(), x.size()), 40.f);
  EXPECT_EQ(dot_product(x.data(), x.data(), 0), 0.f);
}
