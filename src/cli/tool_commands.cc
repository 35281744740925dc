// `ektp tool ...`: developer and operator tools.
#include <signal.h>

#include <charconv>
#include <chrono>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "faultnet/fault_proxy.h"

namespace ektp::cli {
namespace {

// "host:port" -> (host, port); the host may be a name or an address.
Status ParseHostPort(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgument("target must be host:port, got '" + text + "'");
  }
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned value = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return InvalidArgument("target port must be 1-65535, got '" + text.substr(colon + 1) + "'");
  }
  port = static_cast<uint16_t>(value);
  return Status::Ok();
}

nlohmann::json StatsJson(const faultnet::Stats& s) {
  return {{"connections", s.connections},
          {"bytes_client_to_server", s.bytes_client_to_server},
          {"bytes_server_to_client", s.bytes_server_to_client},
          {"faults",
           {{"cut_request", s.cut_request},
            {"cut_response", s.cut_response},
            {"reset", s.reset},
            {"refused", s.refused},
            {"delayed", s.delayed}}},
          {"rejected_while_down", s.rejected_while_down},
          {"cut_by_down", s.cut_by_down},
          {"connect_failures", s.connect_failures}};
}

}  // namespace

int ToolFaultProxy(const Args& args) {
  CLI::App app("Fault-injecting TCP proxy: forwards 127.0.0.1:<listen-port> to <target>, injecting cuts, resets, "
               "refusals and delays from a seeded schedule, optionally over a rate-limited link. Runs until "
               "SIGINT/SIGTERM, then prints its counters as JSON.",
               "tool fault-proxy");
  faultnet::FaultProxyOptions options;
  faultnet::FaultPlan& plan = options.plan;
  std::string target;
  int64_t delay_ms = 0;
  std::optional<double> delay_prob;
  app.add_option("--listen-port", options.listen_port, "port to listen on (0 picks a free one)")->required();
  app.add_option("--listen-host", options.listen_host, "numeric IPv4 address to listen on")->capture_default_str();
  app.add_option("--target", target, "host:port to forward to")->required();
  app.add_option("--seed", options.seed, "seed of the fault schedule")->capture_default_str();
  app.add_option("--cut-request-prob", plan.cut_request_prob, "probability a connection is cut mid-request")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--cut-response-prob", plan.cut_response_prob, "probability a connection is cut mid-response")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--reset-prob", plan.reset_prob, "probability a connection is reset (RST)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--refuse-prob", plan.refuse_prob, "probability a connection is closed on accept")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--cut-min-bytes", plan.cut_min_bytes, "cut/reset points are drawn from [min, max] bytes")
      ->capture_default_str();
  app.add_option("--cut-max-bytes", plan.cut_max_bytes, "cut/reset points are drawn from [min, max] bytes")
      ->capture_default_str();
  app.add_option("--delay-ms", delay_ms, "latency added before each forwarded chunk")->check(CLI::NonNegativeNumber);
  app.add_option("--delay-prob", delay_prob, "probability a connection is delayed (default 1 with --delay-ms)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--rate-bytes-per-sec", plan.rate_bytes_per_sec,
                 "link bandwidth in each direction, shared by all connections (0 = unlimited)")
      ->capture_default_str();
  if (auto exit = Parse(app, args)) return *exit;

  // Bad flag values are usage errors.
  if (Status s = ParseHostPort(target, options.target_host, options.target_port); !s.ok()) {
    Fail(s);
    return kExitUsage;
  }
  plan.delay = std::chrono::milliseconds(delay_ms);
  plan.delay_prob = delay_prob.value_or(delay_ms > 0 ? 1.0 : 0.0);
  if (Status s = plan.Validate(); !s.ok()) {
    Fail(s);
    return kExitUsage;
  }

  // Block the stop signals before any thread starts, so all threads inherit
  // the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  faultnet::FaultProxy proxy(options);
  if (Status s = proxy.Start(); !s.ok()) return Fail(s.WithContext("fault proxy"));
  std::cerr << "ektp tool fault-proxy: listening on " << options.listen_host << ":" << proxy.port()
            << ", forwarding to " << options.target_host << ":" << options.target_port << " (seed "
            << options.seed << ")" << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  proxy.Stop();
  nlohmann::json out = StatsJson(proxy.stats());
  out["listen_port"] = proxy.port();
  out["seed"] = options.seed;
  std::cout << out.dump(2) << std::endl;
  return kExitOk;
}

}  // namespace ektp::cli
