// Which host paths a CRI pod's bind mounts may come from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "vm_sandbox/pod_bind_roots.h"

namespace hull::vm_sandbox {
namespace {
namespace fs = std::filesystem;

nlohmann::json SpecWithBind(const std::string& source, const std::string& destination = "/data") {
  return {{"mounts",
           {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
            {{"destination", destination},
             {"type", "bind"},
             {"source", source},
             {"options", {"rbind", "ro"}}}}}};
}

class PodBindRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pod-bind-roots-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "allowed/vol");
    fs::create_directories(dir_ / "state/io.containerd.grpc.v1.cri/sandboxes/pod1");
    std::ofstream(dir_ / "state/io.containerd.grpc.v1.cri/sandboxes/pod1/hosts")
        << "127.0.0.1 localhost\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PodBindRootsTest, KubeletPodsAreAllowedByDefault) {
  const auto roots = PodBindRoots(nullptr);
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_NO_THROW(CheckPodBindSources(
      SpecWithBind("/var/lib/kubelet/pods/uid/volumes/kubernetes.io~empty-dir/x"), "pod1", roots));
}

TEST_F(PodBindRootsTest, AHostPathOutsideTheRootsIsRefusedWithTheRootsAndTheVariable) {
  try {
    CheckPodBindSources(SpecWithBind("/etc", "/host-etc"), "pod1", PodBindRoots(nullptr));
    FAIL() << "/etc was allowed";
  } catch (const PodBindRootsError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("/etc"), std::string::npos) << m;
    EXPECT_NE(m.find("/host-etc"), std::string::npos) << m;
    EXPECT_NE(m.find(kKubeletPodsDir), std::string::npos) << m;
    EXPECT_NE(m.find(kPodBindRootsVariable), std::string::npos) << m;
  }
}

TEST_F(PodBindRootsTest, ThePodsOwnCriFilesAreAllowedButNotAnotherPods) {
  const auto roots = PodBindRoots(nullptr);
  const fs::path hosts = dir_ / "state/io.containerd.grpc.v1.cri/sandboxes/pod1/hosts";
  EXPECT_NO_THROW(CheckPodBindSources(SpecWithBind(hosts.string(), "/etc/hosts"), "pod1", roots));
  EXPECT_THROW(CheckPodBindSources(SpecWithBind(hosts.string(), "/etc/hosts"), "pod2", roots),
               PodBindRootsError);
  // A path that only names the pod as its last component is no file of it.
  EXPECT_THROW(CheckPodBindSources(
                   SpecWithBind((dir_ / "state/io.containerd.grpc.v1.cri/sandboxes/pod1").string()),
                   "pod1", roots),
               PodBindRootsError);
}

TEST_F(PodBindRootsTest, AdministratorRootsFromTheVariableAreAllowed) {
  const std::string variable = (dir_ / "allowed").string() + "::/srv/data";
  const auto roots = PodBindRoots(variable.c_str());
  EXPECT_EQ(roots.size(), 3u);
  EXPECT_NO_THROW(
      CheckPodBindSources(SpecWithBind((dir_ / "allowed/vol").string()), "pod1", roots));
  EXPECT_NO_THROW(CheckPodBindSources(SpecWithBind("/srv/data"), "pod1", roots));
  // A sibling whose name merely starts like the root is outside it.
  EXPECT_THROW(CheckPodBindSources(SpecWithBind("/srv/data2"), "pod1", roots), PodBindRootsError);
}

TEST_F(PodBindRootsTest, DotDotAndSymlinksOutOfARootAreRefused) {
  const std::string variable = (dir_ / "allowed").string();
  const auto roots = PodBindRoots(variable.c_str());
  EXPECT_THROW(
      CheckPodBindSources(SpecWithBind((dir_ / "allowed/../state").string()), "pod1", roots),
      PodBindRootsError);
  fs::create_directory_symlink("/etc", dir_ / "allowed/etc-link");
  EXPECT_THROW(
      CheckPodBindSources(SpecWithBind((dir_ / "allowed/etc-link").string()), "pod1", roots),
      PodBindRootsError);
}

TEST_F(PodBindRootsTest, ShmBindsAndOtherMountsAreNotChecked) {
  EXPECT_NO_THROW(CheckPodBindSources(SpecWithBind("/run/containerd/shm-anything", "/dev/shm"),
                                      "pod1", PodBindRoots(nullptr)));
  EXPECT_NO_THROW(CheckPodBindSources(nlohmann::json::object(), "pod1", PodBindRoots(nullptr)));
}

TEST_F(PodBindRootsTest, BadVariableEntriesAreRefused) {
  EXPECT_THROW(PodBindRoots("relative/dir"), PodBindRootsError);
  EXPECT_THROW(PodBindRoots("/"), PodBindRootsError);
  EXPECT_THROW(PodBindRoots("/ok:/"), PodBindRootsError);
}

}  // namespace
}  // namespace hull::vm_sandbox
