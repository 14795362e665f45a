#include "server/cli.hpp"

#include "addrservice/auth.hpp"
#include "addrservice/logging.hpp"
#include "addrservice/store/store.hpp"
#include "addrservice/version.hpp"
#include "server/server.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <system_error>

namespace addrservice::http {

namespace {

/// A usage error: reported as one line, exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string check_ip(const std::string& host)
{
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    return ec ? "not an IP address: " + host : std::string();
}

template <typename Unsigned>
Unsigned parse_unsigned(const std::string& name, const std::string& text, Unsigned minimum, Unsigned maximum)
{
    Unsigned value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < minimum || value > maximum) {
        throw UsageError(name + ": expected an integer from " + std::to_string(minimum) + " to " +
                         std::to_string(maximum) + ", got '" + text + "'");
    }
    return value;
}

bool parse_bool(const std::string& name, const std::string& text)
{
    if (text == "1" || text == "true" || text == "yes") {
        return true;
    }
    if (text == "0" || text == "false" || text == "no") {
        return false;
    }
    throw UsageError(name + ": expected 1|true|yes|0|false|no, got '" + text + "'");
}

constexpr unsigned max_workers = 256;

}  // namespace

std::optional<std::string> process_env(const std::string& name)
{
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read once at start
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

CommandLine parse_command_line(const std::vector<std::string>& args, const EnvLookup& env, std::ostream& out,
                               std::ostream& err)
{
    std::uint16_t port = 0;
    std::string host;
    std::string config_path;
    bool debug = false;
    unsigned workers = 1;
    std::string tls_cert;
    std::string tls_key;
    CLI::App cli{"addrservice: an address-book REST service", "addrservice"};
    cli.footer(
        "Every flag may also come from the environment as ADDRSERVICE_<FLAG> (ADDRSERVICE_PORT=9000);\n"
        "a flag wins over the environment, the environment over the config file.");
    // An empty value is a mistake (an unset shell variable), never a silent default.
    const CLI::Validator not_empty(
        [](const std::string& value) { return value.empty() ? std::string("an empty value") : std::string(); }, "");
    // A number in decimal only and in range, worded as for the environment and the file: CLI11 alone reads
    // 0x10 as 16 and 010 as 8, and words an out-of-range value its own way.
    const auto whole_number = [](unsigned low, unsigned high) {
        return CLI::Validator(
            [low, high](std::string& value) {
                const auto first = value.find_first_not_of('0');
                std::string digits = first == std::string::npos ? std::string("0") : value.substr(first);
                unsigned long number = 0;
                const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
                if (value.empty() || ec != std::errc() || end != digits.data() + digits.size() || number < low ||
                    number > high) {
                    return "expected an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                           ", got '" + value + "'";
                }
                value = std::move(digits);  // 0080 is 80, not octal
                return std::string();
            },
            "");
    };
    auto* port_flag = cli.add_option("--port", port, "TCP port to listen on (default 8080; 0 picks a free one)")
                          ->transform(whole_number(0, UINT16_MAX));
    auto* host_flag =
        cli.add_option("--host", host, "IP address to bind (default 0.0.0.0)")->check(check_ip, "IP address");
    auto* config_flag = cli.add_option("--config", config_path, "YAML config file")->check(not_empty);
    auto* debug_flag = cli.add_flag("--debug", debug, "DEBUG logging, and error bodies carry a trace field");
    auto* workers_flag =
        cli.add_option("--workers", workers, "processes sharing the port (sqlite or postgres store only)")
            ->transform(whole_number(1, max_workers));
    auto* tls_cert_flag =
        cli.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve HTTPS only")->check(not_empty);
    auto* tls_key_flag = cli.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")->check(not_empty);
    // Plain flags, acted on once the whole line parsed: `--version --bogus` is an error, not a version.
    bool show_help = false;
    bool show_version = false;
    cli.set_help_flag();
    cli.add_flag("-h,--help", show_help, "print this help and exit");
    cli.add_flag("--version", show_version, "print the version and exit");

    // CLI11 wants argv order reversed, without the program name.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    if (!reversed.empty()) {
        reversed.pop_back();
    }
    try {
        cli.parse(reversed);
    } catch (const CLI::ParseError& e) {
        err << "addrservice: " << e.what() << " (see --help)\n";
        return {std::nullopt, 2};
    }
    try {
        // The environment may ask for them too, as for every flag; a flag on the line is enough.
        if (auto value = env("ADDRSERVICE_HELP"); value && !show_help) {
            show_help = parse_bool("ADDRSERVICE_HELP", *value);
        }
        if (auto value = env("ADDRSERVICE_VERSION"); value && !show_version) {
            show_version = parse_bool("ADDRSERVICE_VERSION", *value);
        }
    } catch (const UsageError& e) {
        err << "addrservice: " << e.what() << " (see --help)\n";
        return {std::nullopt, 2};
    }
    if (show_help) {
        out << cli.help();
        return {std::nullopt, 0};
    }
    if (show_version) {
        out << "addrservice " << version << '\n';
        return {std::nullopt, 0};
    }

    try {
        // The file: named by the flag, else by the environment.
        if (config_flag->count() == 0) {
            if (auto path = env("ADDRSERVICE_CONFIG")) {
                if (path->empty()) {
                    throw UsageError("ADDRSERVICE_CONFIG: an empty value (unset it for no config file)");
                }
                config_path = *path;
            }
        }
        Config config = config_path.empty() ? Config{} : load_config_file(config_path);

        // The environment, over the file.
        if (auto value = env("ADDRSERVICE_PORT")) {
            config.port = parse_unsigned<std::uint16_t>("ADDRSERVICE_PORT", *value, 0, UINT16_MAX);
        }
        if (auto value = env("ADDRSERVICE_HOST")) {
            if (auto problem = check_ip(*value); !problem.empty()) {
                throw UsageError("ADDRSERVICE_HOST: " + problem);
            }
            config.host = *value;
        }
        if (auto value = env("ADDRSERVICE_DEBUG")) {
            config.debug = parse_bool("ADDRSERVICE_DEBUG", *value);
        }
        if (auto value = env("ADDRSERVICE_WORKERS")) {
            config.workers = parse_unsigned<unsigned>("ADDRSERVICE_WORKERS", *value, 1, max_workers);
        }
        auto tls_cert_file = config.tls ? config.tls->cert : std::string();
        auto tls_key_file = config.tls ? config.tls->key : std::string();
        if (auto value = env("ADDRSERVICE_TLS_CERT")) {
            tls_cert_file = *value;
        }
        if (auto value = env("ADDRSERVICE_TLS_KEY")) {
            tls_key_file = *value;
        }

        // Flags, over everything.
        if (port_flag->count() > 0) {
            config.port = port;
        }
        if (host_flag->count() > 0) {
            config.host = host;
        }
        if (debug_flag->count() > 0) {
            config.debug = debug;
        }
        if (workers_flag->count() > 0) {
            config.workers = workers;
        }
        if (tls_cert_flag->count() > 0) {
            tls_cert_file = tls_cert;
        }
        if (tls_key_flag->count() > 0) {
            tls_key_file = tls_key;
        }
        if (tls_cert_file.empty() != tls_key_file.empty()) {
            throw UsageError("--tls-cert and --tls-key go together: give both, or neither");
        }
        if (!tls_cert_file.empty()) {
            config.tls = TlsConfig{tls_cert_file, tls_key_file};
        }

        if (config.debug) {
            config.logging.level = LogLevel::debug;
        }
        if (config.workers > 1 &&
            (config.store.kind == StoreConfig::Kind::memory || config.store.kind == StoreConfig::Kind::fs)) {
            throw UsageError("--workers " + std::to_string(config.workers) +
                             ": needs a store that processes can share (sqlite or postgres), not " +
                             describe(config.store).substr(0, describe(config.store).find(':')));
        }
        if (config.auth) {
            // Refused here, before any worker starts, as well as where each process reads it.
            static_cast<void>(TokenTable::load(config.auth->tokens_file));
        }
        return {config, 0};
    } catch (const ConfigError& e) {
        err << "addrservice: " << e.what() << '\n';
    } catch (const UsageError& e) {
        err << "addrservice: " << e.what() << " (see --help)\n";
    }
    return {std::nullopt, 2};
}

int report_failure(const std::exception_ptr& failure, const Config& config, std::ostream& err)
{
    try {
        std::rethrow_exception(failure);
    } catch (const ListenError& e) {
        err << "addrservice: cannot listen on " << config.host << ':' << config.port << ": " << e.code().message()
            << '\n';
        return 1;
    } catch (const ConfigError& e) {
        err << "addrservice: " << e.what() << '\n';
        return 2;
    } catch (const StoreOpenError& e) {
        err << "addrservice: config: addr-db: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        err << "addrservice: " << e.what() << '\n';
        return 1;
    } catch (...) {
        err << "addrservice: unknown failure\n";
        return 1;
    }
}

}  // namespace addrservice::http
