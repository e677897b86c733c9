#include "npcl/media/port_allocator.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace npcl::media {
namespace {

TEST(port_allocator, hands_out_each_port_once_and_takes_them_back) {
  auto ports = std::make_shared<port_allocator>(40000, 40009);
  std::vector<port_lease> leases;
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 10; ++i) {
    auto l = ports->acquire();
    ASSERT_TRUE(l);
    EXPECT_GE(l->port(), 40000);
    EXPECT_LE(l->port(), 40009);
    EXPECT_TRUE(seen.insert(l->port()).second);
    leases.push_back(std::move(*l));
  }
  EXPECT_FALSE(ports->acquire()) << "range exhausted";
  EXPECT_EQ(ports->in_use(), 10u);
  leases.erase(leases.begin());
  EXPECT_EQ(ports->in_use(), 9u);
  EXPECT_TRUE(ports->acquire());
}

TEST(port_allocator, a_released_port_is_not_reused_at_once) {
  auto ports = std::make_shared<port_allocator>(40000, 40003);
  std::uint16_t first;
  {
    auto l = ports->acquire();
    first = l->port();
  }
  auto next = ports->acquire();
  EXPECT_NE(next->port(), first);
}

TEST(port_allocator, concurrent_calls_never_share_a_port) {
  auto ports = std::make_shared<port_allocator>(40000, 40999);
  std::vector<std::vector<port_lease>> per_thread(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) per_thread[t].push_back(std::move(*ports->acquire()));
    });
  for (auto& th : threads) th.join();
  std::set<std::uint16_t> all;
  for (auto& v : per_thread)
    for (auto& l : v) all.insert(l.port());
  EXPECT_EQ(all.size(), 1000u);
}

}  // namespace
}  // namespace npcl::media
