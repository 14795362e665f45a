#pragma once

#include "addrservice/config.hpp"

#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace addrservice::http {

/// The outcome of reading the command line: a configuration to run, or an exit status (after --help,
/// --version, or a usage or config error already reported on the given streams).
struct CommandLine {
    std::optional<Config> config;
    int exit_status = 0;
};

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment.
std::optional<std::string> process_env(const std::string& name);

/// Builds the Config from defaults, then the config file (--config or ADDRSERVICE_CONFIG), then
/// ADDRSERVICE_* variables, then flags: a flag wins over the environment, the environment over the file.
/// A usage or config error prints one line (and a hint) on err and gives exit status 2.
CommandLine parse_command_line(const std::vector<std::string>& args, const EnvLookup& env, std::ostream& out,
                               std::ostream& err);

/// Reports why the service could not start or went on no longer, as one line on err, and returns the exit
/// status: "cannot listen on HOST:PORT" (1) only for the listening socket; a config or store-opening
/// error (2); anything else by its own text (1).
int report_failure(const std::exception_ptr& failure, const Config& config, std::ostream& err);

}  // namespace addrservice::http
