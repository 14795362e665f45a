#pragma once

#include "addrservice/store/store.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace addrservice {
class BodyStream;
}  // namespace addrservice

namespace addrservice::http {

/// A response body as Beast serializes it: either text of its own (an error, the metrics) or a stored
/// entry (or the list) shared with the store, sent as the store keeps it, never copied. Or a stream (a list
/// too long to hold), whose parts the connection writes itself as the store gives them: Beast serializes
/// only the header block of such a response, and its writer yields nothing.
struct ResponseBody {
    class value_type {
    public:
        value_type& operator=(std::string text)
        {
            own_ = std::move(text);
            shared_.reset();
            stream_.reset();
            return *this;
        }
        value_type& operator=(std::string_view text)
        {
            own_.assign(text);
            shared_.reset();
            stream_.reset();
            return *this;
        }
        value_type& operator=(const char* text) { return *this = std::string_view(text); }
        value_type& operator=(EntryPtr entry) noexcept
        {
            shared_ = std::move(entry);
            own_.clear();
            stream_.reset();
            return *this;
        }
        value_type& operator=(std::shared_ptr<BodyStream> stream) noexcept
        {
            stream_ = std::move(stream);
            own_.clear();
            shared_.reset();
            return *this;
        }
        /// The stream whose parts make the body, if it is one (then view() is empty).
        [[nodiscard]] const std::shared_ptr<BodyStream>& stream() const noexcept { return stream_; }
        /// The bytes to send.
        [[nodiscard]] std::string_view view() const noexcept
        {
            return shared_ ? std::string_view(shared_->json) : std::string_view(own_);
        }
        [[nodiscard]] std::size_t size() const noexcept { return view().size(); }
        [[nodiscard]] bool empty() const noexcept { return view().empty(); }
        void clear() noexcept
        {
            own_.clear();
            shared_.reset();
            stream_.reset();
        }

    private:
        std::string own_;
        EntryPtr shared_;
        std::shared_ptr<BodyStream> stream_;
    };

    /// For Beast's prepare_payload.
    static std::uint64_t size(const value_type& body) noexcept { return body.size(); }

    /// Yields the whole body as one buffer: Beast gathers it with the header block into one write.
    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>& /*header*/, const value_type& body) noexcept
            : body_(body.view())
        {
        }

        void init(boost::beast::error_code& ec) noexcept { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) noexcept
        {
            ec = {};
            if (body_.empty()) {
                return boost::none;
            }
            const auto all = std::exchange(body_, std::string_view{});
            return std::pair<const_buffers_type, bool>{boost::asio::buffer(all.data(), all.size()), false};
        }

    private:
        std::string_view body_;  // what is left to yield
    };
};

}  // namespace addrservice::http
