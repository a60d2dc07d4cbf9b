#include "bbt/protocol/json_text.hpp"

#include "bbt/base/utf8.hpp"

#include <boost/json/serialize.hpp>

namespace bbt::protocol::json_text {

namespace json = boost::json;

void repair(json::value& v) {
    switch (v.kind()) {
        case json::kind::string:
            if (!utf8::valid(v.get_string())) v.get_string() = utf8::repair(v.get_string());
            break;
        case json::kind::array:
            for (auto& e : v.get_array())
                repair(e);
            break;
        case json::kind::object: {
            auto& o = v.get_object();
            bool bad_key = false;
            for (auto& [k, e] : o) {
                repair(e);
                bad_key = bad_key || !utf8::valid(k);
            }
            if (bad_key) {
                // Keys cannot be changed in place: the object is built again.
                json::object fixed(o.storage());
                for (auto& [k, e] : o)
                    fixed.insert_or_assign(utf8::repair(k), std::move(e));
                o = std::move(fixed);
            }
            break;
        }
        default: break;
    }
}

std::string serialize(const json::value& v) {
    auto out = json::serialize(v);
    if (utf8::valid(out)) return out;
    json::value copy = v;
    repair(copy);
    return json::serialize(copy);
}

}  // namespace bbt::protocol::json_text
