// Jiffy conversions (include/linux/jiffies.h) and the tcp.h constants, by hand at HZ=250
// (1 jiffy = 4 ms) and at HZ=100/1000.
#include <gtest/gtest.h>

#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {
namespace {

using namespace std::chrono_literals;
using namespace literals;

TEST(Jiffies, MsecsToJiffiesRoundsUpToWholeJiffies) {
  EXPECT_EQ(msecs_to_jiffies(0ms), 0_j);
  EXPECT_EQ(msecs_to_jiffies(1ms), 1_j);
  EXPECT_EQ(msecs_to_jiffies(4ms), 1_j);
  EXPECT_EQ(msecs_to_jiffies(5ms), 2_j);
  EXPECT_EQ(msecs_to_jiffies(1000ms), 250_j);
  EXPECT_EQ(msecs_to_jiffies(2500ms), 625_j);
  EXPECT_EQ(msecs_to_jiffies(120000ms), 30000_j);
  EXPECT_EQ(msecs_to_jiffies(1ms, 100), 1_j);
  EXPECT_EQ(msecs_to_jiffies(11ms, 100), 2_j);
  EXPECT_EQ(msecs_to_jiffies(7ms, 1000), 7_j);
}

TEST(Jiffies, UsecsToJiffiesRoundsUpSoAnyRttAbove200msGives204ms) {
  EXPECT_EQ(usecs_to_jiffies(200000us), 50_j);
  EXPECT_EQ(usecs_to_jiffies(200001us), 51_j);  // rto_min + any SRTT: 204 ms
  EXPECT_EQ(usecs_to_jiffies(200100us), 51_j);
  EXPECT_EQ(usecs_to_jiffies(204001us), 52_j);  // 5 ms delayed-ACK sample: 208 ms
  EXPECT_EQ(usecs_to_jiffies(1us), 1_j);
  EXPECT_EQ(usecs_to_jiffies(0us), 0_j);
}

TEST(Jiffies, NsecsToJiffiesRoundsDown) {
  EXPECT_EQ(nsecs_to_jiffies(3999999ns), 0_j);
  EXPECT_EQ(nsecs_to_jiffies(4000000ns), 1_j);
  EXPECT_EQ(nsecs_to_jiffies(7999999ns), 1_j);
}

TEST(Jiffies, JiffiesToMsecsIsFourMsPerJiffyAt250Hz) {
  EXPECT_EQ(jiffies_to_msecs(51_j), 204ms);
  EXPECT_EQ(jiffies_to_msecs(231150_j), 924600ms);
  EXPECT_EQ(to_duration(30208_j), 120832ms);
  EXPECT_EQ(to_duration(1_j, 1000), 1ms);
  EXPECT_EQ(to_duration(3_j, 100), 30ms);
}

TEST(Jiffies, TcpConstantsFollowHz) {
  EXPECT_EQ(tcp_rto_min_constant(), 50_j);
  EXPECT_EQ(tcp_rto_max_constant(), 30000_j);
  EXPECT_EQ(tcp_timeout_init(), 250_j);
  EXPECT_EQ(tcp_rto_min_constant(1000), 200_j);
  EXPECT_EQ(seconds_to_jiffies(7200s), 1800000_j);
  EXPECT_EQ(ilog2(600), 9);
  EXPECT_EQ(ilog2(1), 0);
  EXPECT_EQ(ilog2(5), 2);
}

}  // namespace
}  // namespace tapfault::replay::model
