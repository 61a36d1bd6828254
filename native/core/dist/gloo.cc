// c10d's ProcessGroupGloo. This file alone includes gloo's headers; CMake compiles it first on its
// own and keeps it only when the compiled code is LibTorch's gloo through and through (see
// CMakeLists.txt), because a pip torch carries gloo compiled in without its headers, and headers of
// another gloo version would describe other classes.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#if !defined(USE_C10D_GLOO)
#error "this LibTorch's c10d has no Gloo backend (USE_C10D_GLOO)"
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "core/dist/backend.h"

namespace finetorch {
namespace dist {
namespace {

// The local address from which `host` is reached: the interface Gloo should listen on, also when
// the job spans machines (a connected UDP socket sends nothing).
std::string LocalAddressToward(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return "";
  std::string local;
  for (addrinfo* a = found; a && local.empty(); a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, 0);
    if (fd < 0) continue;
    sockaddr_storage self{};
    socklen_t length = sizeof(self);
    char text[INET6_ADDRSTRLEN] = {0};
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&self), &length) == 0) {
      const void* address = self.ss_family == AF_INET6
                                ? static_cast<const void*>(&(reinterpret_cast<sockaddr_in6*>(&self)->sin6_addr))
                                : static_cast<const void*>(&(reinterpret_cast<sockaddr_in*>(&self)->sin_addr));
      if (inet_ntop(self.ss_family, address, text, sizeof(text))) local = text;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return local;
}

}  // namespace

std::unique_ptr<Collectives> OpenGloo(c10::intrusive_ptr<c10d::Store> store, const GroupOptions& o) {
  auto options = c10d::ProcessGroupGloo::Options::create(o.timeout);
  for (const auto& name : o.interfaces) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
  }
  if (options->devices.empty()) {
    std::string local = LocalAddressToward(o.masterAddr, o.masterPort);
    options->devices.push_back(local.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                             : c10d::ProcessGroupGloo::createDeviceForHostname(local));
  }
  options->threads = static_cast<int>(options->devices.size() * 2);  // as Python's ProcessGroupGloo
  return std::make_unique<BackendCollectives<c10d::ProcessGroupGloo>>(
      c10::make_intrusive<c10d::ProcessGroupGloo>(std::move(store), o.rank, o.worldSize, options));
}

}  // namespace dist
}  // namespace finetorch
