// libFuzzer target: the local API codec. Any line gives a message or an
// error; a request that parses survives a round trip with the same id, method
// and parameters. Numbers are compared to within a few units in the last
// place: Boost.JSON 1.81 parses decimal literals without correct rounding, so
// even its own shortest output of a double may read back one step off.
#include "bbt/protocol/local_api.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace {

bool close_enough(double a, double b) {
    if (a == b) return true;
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    return std::fabs(a - b) <= 8 * std::numeric_limits<double>::epsilon() * std::fmax(std::fabs(a), std::fabs(b));
}

bool same(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() || b.is_double()) {
        if (!a.is_number() || !b.is_number()) return false;
        return close_enough(a.to_number<double>(), b.to_number<double>());
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!same(x[i], y[i])) return false;
        }
        return true;
    }
    if (a.is_object()) {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& [key, value] : x) {
            auto it = y.find(key);
            if (it == y.end() || !same(value, it->value())) return false;
        }
        return true;
    }
    return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view line(reinterpret_cast<const char*>(data), size);
    if (auto r = bbt::protocol::parse_request(line)) {
        auto again = bbt::protocol::parse_request(bbt::protocol::serialize(*r));
        if (!again || again->id != r->id || again->method != r->method) std::abort();
        if (!same(boost::json::value(r->params), boost::json::value(again->params))) std::abort();
    }
    if (auto r = bbt::protocol::parse_response(line)) {
        if (r->result.has_value() == r->error_code.has_value()) std::abort();
        auto again = bbt::protocol::parse_response(bbt::protocol::serialize(*r));
        if (!again || again->id != r->id) std::abort();
    }
    return 0;
}
