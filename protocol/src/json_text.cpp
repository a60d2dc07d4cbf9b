#include "bbt/protocol/json_text.hpp"

#include "bbt/base/utf8.hpp"

#include <boost/json/serialize.hpp>

namespace bbt::protocol::json_text {

namespace json = boost::json;

size_t repair(json::value& v) {
    size_t n = 0;
    auto text = [&n](json::string& s) {
        if (utf8::valid(s)) return;
        s = utf8::repair(s);
        ++n;
    };
    switch (v.kind()) {
        case json::kind::string: text(v.get_string()); break;
        case json::kind::array:
            for (auto& e : v.get_array())
                n += repair(e);
            break;
        case json::kind::object: {
            auto& o = v.get_object();
            bool bad_key = false;
            for (auto& [k, e] : o) {
                n += repair(e);
                bad_key = bad_key || !utf8::valid(k);
            }
            if (bad_key) {
                // Keys cannot be changed in place: the object is built again.
                json::object fixed(o.storage());
                for (auto& [k, e] : o) {
                    if (!utf8::valid(k)) ++n;
                    fixed.insert_or_assign(utf8::repair(k), std::move(e));
                }
                o = std::move(fixed);
            }
            break;
        }
        default: break;
    }
    return n;
}

std::string serialize(const json::value& v) {
    auto out = json::serialize(v);
    if (utf8::valid(out)) return out;
    json::value copy = v;
    repair(copy);
    return json::serialize(copy);
}

}  // namespace bbt::protocol::json_text
