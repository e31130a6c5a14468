#include <gtest/gtest.h>

#include "vm_sandbox/drive_slots.h"

namespace hull::vm_sandbox {
namespace {

TEST(DriveSlotsTest, HandsOutTheLowestFreeSlot) {
  DriveSlots slots(3);
  EXPECT_EQ(slots.Acquire("a"), 0u);
  EXPECT_EQ(slots.Acquire("b"), 1u);
  EXPECT_EQ(slots.Acquire("c"), 2u);
  EXPECT_TRUE(slots.Release("b"));
  EXPECT_EQ(slots.SlotOf("b"), -1);
  EXPECT_EQ(slots.Acquire("d"), 1u);  // the freed slot is re-used
  EXPECT_EQ(slots.SlotOf("d"), 1);
  EXPECT_EQ(slots.in_use(), 3u);
}

TEST(DriveSlotsTest, FullSlotsGiveAnErrorNamingTheLimit) {
  DriveSlots slots(2);
  slots.Acquire("a");
  slots.Acquire("b");
  try {
    slots.Acquire("c");
    FAIL() << "a third container got a slot of two";
  } catch (const DriveSlotsError& e) {
    EXPECT_NE(std::string(e.what()).find("all 2 rootfs drive slots"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 2 containers"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slots.SlotOf("c"), -1);
  EXPECT_TRUE(slots.Release("a"));
  EXPECT_EQ(slots.Acquire("c"), 0u);
}

TEST(DriveSlotsTest, AnOwnerHoldsOneSlotAndReleasesOnlyItsOwn) {
  DriveSlots slots(3);
  slots.Acquire("a");
  EXPECT_THROW(slots.Acquire("a"), DriveSlotsError);
  EXPECT_THROW(slots.Acquire(""), DriveSlotsError);
  EXPECT_FALSE(slots.Release("nobody"));
  EXPECT_TRUE(slots.Release("a"));
  EXPECT_FALSE(slots.Release("a"));
  EXPECT_EQ(slots.in_use(), 0u);
}

TEST(DriveSlotsTest, SlotCountIsBoundedByGuestDeviceNames) {
  EXPECT_THROW(DriveSlots(0), DriveSlotsError);
  EXPECT_THROW(DriveSlots(27), DriveSlotsError);
  EXPECT_EQ(DriveSlots(26).count(), 26u);
}

TEST(DriveSlotsTest, DriveIdsAndGuestDevicesFollowTheSlot) {
  EXPECT_EQ(DriveSlots::DriveId(0), "rootfs");  // the first container's drive keeps its name
  EXPECT_EQ(DriveSlots::DriveId(2), "rootfs2");
  EXPECT_EQ(DriveSlots::GuestDevice(0), "/dev/vda");
  EXPECT_EQ(DriveSlots::GuestDevice(3), "/dev/vdd");
}

}  // namespace
}  // namespace hull::vm_sandbox
