#include "service/agent_service.h"

#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "runtime/error.h"
#include "service/oom_watch.h"
#include "service/status.h"

#ifndef HULL_VERSION
#define HULL_VERSION "unknown"
#endif

namespace hull::service {

using grpc::ServerContext;
using grpc::Status;

namespace {

// Failures of the calls that set up sandboxes and containers also go to the
// agent's log (console and the ReadAgentLog ring), so a host that only saw a
// timeout can still read why.
Status logged(const char* call, const std::string& id, Status s) {
  if (!s.ok())
    std::fprintf(stderr, "hull-agent: %s %s failed (%d): %s\n", call, id.c_str(),
                 static_cast<int>(s.error_code()), s.error_message().c_str());
  return s;
}

}  // namespace

Status AgentService::Health(ServerContext*, const pb::HealthRequest*, pb::HealthResponse* resp) {
  resp->set_status(pb::HealthResponse::SERVING);
  return Status::OK;
}

Status AgentService::Version(ServerContext*, const pb::VersionRequest*, pb::VersionResponse* resp) {
  resp->set_agent_version(HULL_VERSION);
  resp->set_api_version(1);
  utsname u{};
  if (::uname(&u) == 0) resp->set_kernel_release(u.release);
  return Status::OK;
}

Status AgentService::CreateSandbox(ServerContext*, const pb::CreateSandboxRequest* req,
                                   pb::Empty*) {
  return logged("CreateSandbox", req->hostname(), guarded([&] { sandbox_.create(*req); }));
}

Status AgentService::DestroySandbox(ServerContext*, const pb::DestroySandboxRequest* req,
                                    pb::Empty*) {
  Status s = guarded([&] {
    rt_.remove_all();
    sandbox_.destroy();
  });
  if (s.ok() && req->shutdown_vm() && shutdown_) {
    // Reply first; the shutdown hook runs once the response had time to leave.
    std::thread([hook = shutdown_] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      hook();
    }).detach();
  }
  return s;
}

Status AgentService::CreateContainer(ServerContext*, const pb::CreateContainerRequest* req,
                                     pb::CreateContainerResponse* resp) {
  return logged("CreateContainer", req->container_id(), guarded([&] {
    runtime::RootfsSource src;
    if (req->rootfs().has_block()) {
      const auto& b = req->rootfs().block();
      if (b.device().empty() || b.fstype().empty())
        throw runtime::RuntimeError(runtime::ErrorKind::invalid_argument,
                                    "rootfs.block: device and fstype are required");
      src.block = runtime::BlockRootfs{
          b.device(), b.fstype(), {b.options().begin(), b.options().end()}, b.writable_overlay(),
          b.expected_size_bytes()};
    } else {
      src.directory = req->rootfs().directory();
    }
    resp->set_pid(
        static_cast<uint32_t>(rt_.create(req->container_id(), req->oci_config_json(), src)));
  }));
}

Status AgentService::StartContainer(ServerContext*, const pb::ContainerRequest* req, pb::Empty*) {
  return logged("StartContainer", req->container_id(),
                guarded([&] { rt_.start(req->container_id()); }));
}

Status AgentService::RemoveContainer(ServerContext*, const pb::RemoveContainerRequest* req,
                                     pb::Empty*) {
  return guarded([&] { rt_.remove(req->container_id(), req->force()); });
}

Status AgentService::ExecProcess(ServerContext*, const pb::ExecProcessRequest* req,
                                 pb::ExecProcessResponse* resp) {
  return logged("ExecProcess", req->container_id() + "/" + req->exec_id(), guarded([&] {
    resp->set_pid(static_cast<uint32_t>(
        rt_.exec(req->container_id(), req->exec_id(), req->oci_process_json())));
  }));
}

Status AgentService::SignalProcess(ServerContext*, const pb::SignalProcessRequest* req,
                                   pb::Empty*) {
  return guarded([&] {
    rt_.signal(req->container_id(), req->exec_id(),
               static_cast<int>(std::min<uint32_t>(req->signal(), 1000)), req->all());
  });
}

Status AgentService::WaitProcess(ServerContext* ctx, const pb::ProcessRequest* req,
                                 pb::WaitProcessResponse* resp) {
  bool cancelled = false;
  Status s = guarded([&] {
    auto st = rt_.wait(req->container_id(), req->exec_id(), [&] { return ctx->IsCancelled(); });
    if (!st) {
      cancelled = true;
      return;
    }
    resp->set_exit_status(st->code);
    resp->set_signal(static_cast<uint32_t>(st->signal));
  });
  return cancelled ? Status(grpc::StatusCode::CANCELLED, "the client cancelled the wait") : s;
}

Status AgentService::WriteStdin(ServerContext*, const pb::WriteStdinRequest* req,
                                pb::WriteStdinResponse* resp) {
  return guarded([&] {
    resp->set_len(static_cast<uint32_t>(
        rt_.io(req->container_id(), req->exec_id())->write_stdin(req->data())));
  });
}

Status AgentService::CloseStdin(ServerContext*, const pb::ProcessRequest* req, pb::Empty*) {
  return guarded([&] { rt_.io(req->container_id(), req->exec_id())->close_stdin(); });
}

Status AgentService::read_stream(ServerContext* ctx, const pb::ProcessRequest* req,
                                 runtime::OutputStream which,
                                 grpc::ServerWriter<pb::OutputChunk>* writer) {
  return guarded([&] {
    auto io = rt_.io(req->container_id(), req->exec_id());
    io->read_output(
        which,
        [&](const std::string& data) {
          pb::OutputChunk chunk;
          chunk.set_data(data);
          return writer->Write(chunk);
        },
        [&] { return ctx->IsCancelled(); });
  });
}

Status AgentService::ReadStdout(ServerContext* ctx, const pb::ProcessRequest* req,
                                grpc::ServerWriter<pb::OutputChunk>* writer) {
  return read_stream(ctx, req, runtime::OutputStream::stdout_stream, writer);
}

Status AgentService::ReadStderr(ServerContext* ctx, const pb::ProcessRequest* req,
                                grpc::ServerWriter<pb::OutputChunk>* writer) {
  return read_stream(ctx, req, runtime::OutputStream::stderr_stream, writer);
}

Status AgentService::TtyWinResize(ServerContext*, const pb::TtyWinResizeRequest* req, pb::Empty*) {
  return guarded([&] {
    if (req->rows() > 65535 || req->columns() > 65535)
      throw runtime::RuntimeError(runtime::ErrorKind::invalid_argument,
                                  "rows/columns: must be at most 65535");
    rt_.io(req->container_id(), req->exec_id())->resize(req->rows(), req->columns());
  });
}

Status AgentService::PauseContainer(ServerContext*, const pb::ContainerRequest* req, pb::Empty*) {
  return guarded([&] { rt_.pause(req->container_id()); });
}

Status AgentService::ResumeContainer(ServerContext*, const pb::ContainerRequest* req, pb::Empty*) {
  return guarded([&] { rt_.resume(req->container_id()); });
}

Status AgentService::StatsContainer(ServerContext*, const pb::ContainerRequest* req,
                                    pb::StatsContainerResponse* resp) {
  return guarded([&] {
    runtime::ContainerStats s = rt_.stats(req->container_id());
    auto get = [&](const std::map<std::string, uint64_t>& m, const char* k) {
      auto it = m.find(k);
      return it == m.end() ? uint64_t(0) : it->second;
    };
    auto* cpu = resp->mutable_cpu();
    cpu->set_usage_usec(get(s.cgroup.cpu, "usage_usec"));
    cpu->set_user_usec(get(s.cgroup.cpu, "user_usec"));
    cpu->set_system_usec(get(s.cgroup.cpu, "system_usec"));
    cpu->set_nr_periods(get(s.cgroup.cpu, "nr_periods"));
    cpu->set_nr_throttled(get(s.cgroup.cpu, "nr_throttled"));
    cpu->set_throttled_usec(get(s.cgroup.cpu, "throttled_usec"));
    auto* mem = resp->mutable_memory();
    mem->set_usage_bytes(s.cgroup.memory_current);
    mem->set_limit_bytes(s.cgroup.memory_max);
    mem->set_swap_usage_bytes(s.cgroup.swap_current);
    mem->set_oom_kills(s.cgroup.oom_kills);
    mem->set_swap_limit_bytes(s.cgroup.swap_max);
    auto* events = mem->mutable_events();
    events->set_low(s.cgroup.memory_events.low);
    events->set_high(s.cgroup.memory_events.high);
    events->set_max(s.cgroup.memory_events.max);
    events->set_oom(s.cgroup.memory_events.oom);
    events->set_oom_kill(s.cgroup.memory_events.oom_kill);
    for (const auto& [k, v] : s.cgroup.memory) (*mem->mutable_stat())[k] = v;
    resp->mutable_pids()->set_current(s.cgroup.pids_current);
    resp->mutable_pids()->set_limit(s.cgroup.pids_max);
    for (const auto& io : s.cgroup.io) {
      auto* d = resp->add_io();
      d->set_major(io.major);
      d->set_minor(io.minor);
      d->set_read_bytes(io.rbytes);
      d->set_write_bytes(io.wbytes);
      d->set_read_ios(io.rios);
      d->set_write_ios(io.wios);
    }
    for (const auto& n : s.network) {
      auto* d = resp->add_network();
      d->set_name(n.name);
      d->set_rx_bytes(n.rx_bytes);
      d->set_rx_packets(n.rx_packets);
      d->set_rx_errors(n.rx_errors);
      d->set_rx_dropped(n.rx_dropped);
      d->set_tx_bytes(n.tx_bytes);
      d->set_tx_packets(n.tx_packets);
      d->set_tx_errors(n.tx_errors);
      d->set_tx_dropped(n.tx_dropped);
    }
  });
}

Status AgentService::UpdateContainer(ServerContext*, const pb::UpdateContainerRequest* req,
                                     pb::Empty*) {
  return guarded([&] { rt_.update(req->container_id(), req->oci_resources_json()); });
}

Status AgentService::ListProcesses(ServerContext*, const pb::ContainerRequest* req,
                                   pb::ListProcessesResponse* resp) {
  return guarded([&] {
    for (const auto& p : rt_.processes(req->container_id())) {
      auto* e = resp->add_processes();
      e->set_pid(static_cast<uint32_t>(p.pid));
      e->set_ppid(static_cast<uint32_t>(p.ppid));
      e->set_command(p.command);
    }
  });
}

Status AgentService::GetOOMEvents(ServerContext* ctx, const pb::GetOOMEventsRequest*,
                                  grpc::ServerWriter<pb::OOMEvent>* writer) {
  return guarded([&] {
    // memory.events is polled: a handful of reads every 200 ms per open stream.
    std::map<std::string, uint64_t> seen = rt_.oom_counters();
    while (!ctx->IsCancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      for (const std::string& id : take_new_oom_events(seen, rt_.oom_counters())) {
        pb::OOMEvent ev;
        ev.set_container_id(id);
        if (!writer->Write(ev)) return;
      }
    }
  });
}

Status AgentService::ReadAgentLog(ServerContext*, const pb::ReadAgentLogRequest* req,
                                  pb::ReadAgentLogResponse* resp) {
  LogRing::Slice slice = log_.Since(req->since_sequence(), req->max_lines());
  for (LogRing::Line& line : slice.lines) {
    pb::AgentLogLine* out = resp->add_lines();
    out->set_sequence(line.sequence);
    out->set_unix_time_ms(line.unix_time_ms);
    out->set_text(std::move(line.text));
  }
  resp->set_next_sequence(slice.next_sequence);
  resp->set_missed(slice.missed);
  resp->set_dropped_total(slice.dropped_total);
  return Status::OK;
}

}  // namespace hull::service
