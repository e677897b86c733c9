#pragma once
#include <cstddef>
#include <cstring>

namespace npcl::audio {

/// Sum of a[i]·b[i] over n samples. A plain loop is one chain of dependent
/// additions that the compiler may not reorder (that would change the
/// rounding), so it neither vectorises nor pipelines; here sixteen running sums
/// in four 4-wide vectors (GCC/Clang vector extensions, SSE on x86-64, NEON on
/// arm64) do both. The result differs from the one-sum order only in rounding.
inline float dot_product(const float* a, const float* b, std::size_t n) noexcept {
  using v4 = float __attribute__((vector_size(16)));
  constexpr std::size_t width = 4;
  constexpr std::size_t lanes = 4 * width;
  v4 sums[4] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < 4; ++k) {
      v4 x, y;
      // memcpy: unaligned loads without aliasing casts; compiles to movups.
      std::memcpy(&x, a + i + k * width, sizeof x);
      std::memcpy(&y, b + i + k * width, sizeof y);
      sums[k] += x * y;
    }
  }
  const v4 s = (sums[0] + sums[1]) + (sums[2] + sums[3]);
  float sum = (s[0] + s[2]) + (s[1] + s[3]);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace npcl::audio
