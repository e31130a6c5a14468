// Where the shim's task events go (containerd's event service). Publishing
// never blocks an RPC: implementations queue and deliver in order.
#pragma once

#include <string>

#include "google/protobuf/message.h"

namespace hull::task {

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // `topic` is containerd's ("/tasks/create", "/tasks/exit", ...); `event` one
  // of containerd.events.Task* messages.
  virtual void Publish(const std::string& topic, const google::protobuf::Message& event) = 0;
};

// containerd's typeurl names events by their full proto name, without the
// "type.googleapis.com/" prefix that protobuf's Any::PackFrom would add.
std::string EventTypeUrl(const google::protobuf::Message& event);

}  // namespace hull::task
