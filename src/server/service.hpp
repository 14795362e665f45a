#pragma once

#include "addrservice/config.hpp"
#include "addrservice/logging.hpp"

namespace addrservice::http {

/// The whole program: command line, logging, serve. Returns the process exit status.
int main_entry(int argc, char** argv);

/// Runs the service as configured until SIGINT or SIGTERM: logs STARTING, serves, drains, logs STOPPED.
/// SIGHUP is logged (RELOAD) and stops nothing. Returns the process exit status. Throws ListenError when
/// the port cannot be bound, std::system_error naming its cause when another start-up step fails.
int run_service(const Config& config, Logger& logger);

/// Runs config.workers processes, each running run_service on the same port (SO_REUSEPORT; a port of 0 is
/// chosen once), and stops them all on SIGINT or SIGTERM; SIGHUP is passed on to every worker. Returns the
/// exit status: 0 when every worker stopped cleanly. Throws ListenError when the port cannot be reserved.
int run_workers(const Config& config);

}  // namespace addrservice::http
