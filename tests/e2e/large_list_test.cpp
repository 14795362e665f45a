// The built binary streams a 100,000-entry book to a client that reads slowly, without its memory
// growing with the book.
#include "addrservice/store/sqlite_store.hpp"
#include "addrservice/store/store.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <boost/asio/read.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace addrservice::testing {
namespace {

constexpr int book_size = 100'000;

/// The id of the n-th entry: 32 hex digits, as the service makes them.
std::string id_of(int n)
{
    std::array<char, 33> id{};
    std::snprintf(id.data(), id.size(), "%032x", static_cast<unsigned>(n) * 2654435761U);
    return id.data();
}

/// A SQLite book of book_size entries, written in one transaction (as POSTs it would take minutes).
void write_book(const std::string& path)
{
    {
        const SqliteStore schema(path);  // creates the file at the schema version this build reads
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO entries (id, etag, json) VALUES (?1, ?2, ?3)", -1, &insert, nullptr);
    for (int n = 0; n < book_size; ++n) {
        const auto id = id_of(n);
        const auto text = R"({"addresses":[{"city":"Port Meridian","country":"Freedonia","kind":"home","pincode":)" +
                          std::to_string(40000 + n % 1000) + R"(,"street_name":"Quillfeather Lane","street_number":)" +
                          std::to_string(n % 300) + R"(}],"emails":[{"email":"entry)" + std::to_string(n) +
                          R"(@example.org","kind":"work"}],"full_name":"Entry )" + std::to_string(n) + R"("})";
        const auto etag = make_etag(text);
        sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, etag.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, text.c_str(), -1, SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
}

/// A process's resident memory in bytes, from /proc/<pid>/status.
std::size_t resident_bytes(int pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) {
            return std::stoul(line.substr(6)) * 1024;
        }
    }
    return 0;
}

TEST(LargeList, AHundredThousandEntriesReachASlowReaderWithoutTheServerGrowing)
{
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-e2e-large-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto book = (dir / "book.db").string();
    write_book(book);
    const auto config = dir / "config.yaml";
    std::ofstream(config) << "addr-db: {sqlite: " << book << "}\n";

    Process server(ADDRSERVICE_BINARY, {"--port", "0", "--host", "127.0.0.1", "--config", config.string()});
    const auto starting = server.wait_for_line("STARTING\"");
    ASSERT_TRUE(starting) << server.output();
    const auto port = port_from_log_line(*starting);
    ASSERT_EQ(HttpClient(port).get("/readyz").result(), boost::beast::http::status::ok);
    const auto before = resident_bytes(server.pid());

    HttpClient reader(port);
    reader.socket().set_option(boost::asio::socket_base::receive_buffer_size(64 * 1024));
    reader.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    parser.eager(true);  // each put() parses all it is given, not one piece
    std::size_t peak = before;
    boost::beast::flat_buffer pending;
    for (int reads = 0; !parser.is_done(); ++reads) {
        const auto n = reader.socket().read_some(pending.prepare(16 * 1024));
        pending.commit(n);
        boost::beast::error_code ec;
        pending.consume(parser.put(pending.data(), ec));
        ASSERT_TRUE(!ec || ec == boost::beast::http::error::need_more) << ec.message();
        if (reads % 64 == 0) {
            peak = std::max(peak, resident_bytes(server.pid()));
        }
        // The slow reader: the server must wait for it rather than hold what it has not yet sent.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    peak = std::max(peak, resident_bytes(server.pid()));

    const auto& body = parser.get().body();
    EXPECT_EQ(parser.get()[boost::beast::http::field::transfer_encoding], "chunked");
    EXPECT_TRUE(body.starts_with("{\"")) << body.substr(0, 100);
    EXPECT_TRUE(body.ends_with("\"}}")) << body.substr(body.size() - 100);
    std::size_t entries = 0;
    for (auto at = body.find(R"(":{"addresses")"); at != std::string::npos;
         at = body.find(R"(":{"addresses")", at + 1)) {
        ++entries;
    }
    EXPECT_EQ(entries, static_cast<std::size_t>(book_size));
    EXPECT_GT(body.size(), std::size_t{20} << 20);
    EXPECT_LT(peak - before, std::size_t{16} << 20) << "RSS before " << before << ", peak while streaming " << peak;

    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(), 0);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace addrservice::testing
