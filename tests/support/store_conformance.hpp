#pragma once

// One suite every store passes (its tests are in store_conformance.cpp, compiled into each test binary
// that instantiates it): CRUD, not-found, listing, ranges by id, id checks, large and unicode entries,
// concurrent operations on one id, conditional writes and their races.
#include "addrservice/store/store.hpp"
#include "support/run_task.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace addrservice::testing {

struct StoreKind {
    std::string name;
    // Makes a store over the given scratch directory (stores that need none ignore it); a store that
    // runs on a loop runs on io.
    std::function<std::shared_ptr<AddressStore>(const std::filesystem::path&, boost::asio::io_context&)> make;
};

inline void PrintTo(const StoreKind& kind, std::ostream* os)
{
    *os << kind.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreKind> {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Runs a store operation on the loop the store runs on.
    template <typename T>
    T run(Task<T> task)
    {
        return run_task(io, std::move(task));
    }

    static EntryPtr entry(const std::string& name);

    boost::asio::io_context io;
    std::shared_ptr<AddressStore> store;

private:
    std::filesystem::path dir_;
};

}  // namespace addrservice::testing
