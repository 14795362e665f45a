#include "server/cli.hpp"

#include "addrservice/logging.hpp"
#include "addrservice/version.hpp"
#include "server/server.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <iostream>
#include <system_error>

namespace addrservice::http {

CommandLine parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    Config config;
    CLI::App cli{"addrservice: an address-book REST service", "addrservice"};
    cli.add_option("--port", config.port, "TCP port to listen on (0 picks a free one)")->capture_default_str();
    cli.add_option("--host", config.host, "IP address to bind")
        ->capture_default_str()
        ->check(
            [](const std::string& host) {
                boost::system::error_code ec;
                boost::asio::ip::make_address(host, ec);
                return ec ? "not an IP address: " + host : std::string();
            },
            "IP address");
    cli.add_flag("--debug", config.debug, "DEBUG logging, and error bodies carry a trace field");
    cli.set_version_flag("--version", std::string("addrservice ") + version);

    // CLI11 wants argv order reversed, without the program name.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    if (!reversed.empty()) {
        reversed.pop_back();
    }
    try {
        cli.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        out << cli.help();
        return {std::nullopt, 0};
    } catch (const CLI::CallForVersion&) {
        out << "addrservice " << version << '\n';
        return {std::nullopt, 0};
    } catch (const CLI::ParseError& e) {
        err << "addrservice: " << e.what() << "\nRun with --help for more information.\n";
        return {std::nullopt, 2};
    }
    if (config.debug) {
        config.logging.level = LogLevel::debug;
    }
    return {config, 0};
}

int main_entry(int argc, char** argv)
{
    const std::vector<std::string> args(argv, argv + argc);
    auto command_line = parse_command_line(args, std::cout, std::cerr);
    if (!command_line.config) {
        return command_line.exit_status;
    }
    const auto& config = *command_line.config;
    try {
        Logger logger(config.logging);
        try {
            return run_service(config, logger);
        } catch (const std::system_error& e) {
            std::cerr << "addrservice: cannot listen on " << config.host << ':' << config.port << ": "
                      << e.code().message() << '\n';
            return 1;
        }
    } catch (const ConfigError& e) {
        std::cerr << "addrservice: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "addrservice: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace addrservice::http
