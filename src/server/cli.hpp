#pragma once

#include "addrservice/config.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace addrservice::http {

/// The outcome of reading the command line: a configuration to run, or an exit status (after --help,
/// --version, or a usage error already reported on the given streams).
struct CommandLine {
    std::optional<Config> config;
    int exit_status = 0;
};

/// Reads flags into a Config. Usage errors print one line (and a hint) on err and give exit status 2.
CommandLine parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// The whole program: command line, logging, serve. Returns the process exit status.
int main_entry(int argc, char** argv);

}  // namespace addrservice::http
