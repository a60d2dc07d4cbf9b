#include "bbt/protocol/catalogue.hpp"

#include "bbt/base/i18n.hpp"

#include <boost/json.hpp>

#include <set>

namespace bbt::protocol {
namespace {

namespace json = boost::json;

constexpr size_t max_id = 128;
constexpr size_t max_text = 512;
constexpr size_t max_url = 2048;

error bad(std::string_view what, std::string_view where) {
    return error(base_errc::config_value,
                 i18n::format({"the courseware catalogue is not valid: {}; ask the county to publish it again",
                               "课件目录无效：{}；请联系县级平台重新发布"},
                              what),
                 where);
}

bool hex64(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A text field: a string of at most `limit` bytes; `required` ones non-empty.
result<std::string> text(const json::object& o, std::string_view key, size_t limit, bool required,
                         const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        if (required) return bad(i18n::format({"\"{}\" is missing", "缺少“{}”"}, key), where);
        return std::string{};
    }
    if (!v->is_string()) return bad(i18n::format({"\"{}\" must be text", "“{}”必须是文本"}, key), where);
    const auto& s = v->as_string();
    if (s.size() > limit) {
        return bad(i18n::format({"\"{}\" is longer than {} bytes", "“{}”超过 {} 字节"}, key, limit), where);
    }
    if (required && s.empty()) return bad(i18n::format({"\"{}\" is empty", "“{}”为空"}, key), where);
    return std::string(s);
}

result<int64_t> integer(const json::object& o, std::string_view key, int64_t lo, int64_t hi, bool required,
                        const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        if (required) return bad(i18n::format({"\"{}\" is missing", "缺少“{}”"}, key), where);
        return 0;
    }
    int64_t n = 0;
    if (v->is_int64()) {
        n = v->as_int64();
    } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(hi)) {
        n = static_cast<int64_t>(v->as_uint64());
    } else {
        return bad(i18n::format({"\"{}\" must be a whole number", "“{}”必须是整数"}, key), where);
    }
    if (n < lo || n > hi) {
        return bad(i18n::format({"\"{}\" must lie in {}..{}", "“{}”须在 {}..{} 之间"}, key, lo, hi), where);
    }
    return n;
}

}  // namespace

result<std::vector<catalogue_entry>> parse_catalogue(std::string_view text_in) {
    if (text_in.size() > max_catalogue_bytes) {
        return bad(i18n::format({"it is larger than {} bytes", "超过 {} 字节"}, max_catalogue_bytes), "catalogue");
    }
    boost::system::error_code ec;
    json::parse_options po;
    po.max_depth = 8;
    auto v = json::parse(text_in, ec, {}, po);
    if (ec) return bad(i18n::format({"not JSON ({})", "不是 JSON（{}）"}, ec.message()), "catalogue");
    if (!v.is_object()) return bad(i18n::text({"not a JSON object", "不是 JSON 对象"}), "catalogue");
    const auto& root = v.as_object();
    auto version = integer(root, "version", 1, 1, true, "catalogue");
    if (!version) return version.error();
    const json::value* list = root.if_contains("resources");
    if (list == nullptr || !list->is_array()) {
        return bad(i18n::text({"\"resources\" must be a list", "“resources”必须是列表"}), "catalogue");
    }
    if (list->as_array().size() > max_catalogue_entries) {
        return bad(i18n::format({"more than {} resources", "资源超过 {} 个"}, max_catalogue_entries), "catalogue");
    }
    std::vector<catalogue_entry> out;
    std::set<std::string, std::less<>> ids;
    size_t index = 0;
    for (const auto& e : list->as_array()) {
        std::string where = "resources[" + std::to_string(index++) + "]";
        if (!e.is_object()) return bad(i18n::text({"an entry is not an object", "条目不是对象"}), where);
        const auto& o = e.as_object();
        catalogue_entry c;
        auto id = text(o, "id", max_id, true, where);
        if (!id) return id.error();
        c.id = std::move(*id);
        for (unsigned char ch : c.id) {
            if (ch < 0x21 || ch == 0x7f || ch == ',') {
                return bad(i18n::text({"\"id\" holds a space, a comma or a control character",
                                       "“id”含有空格、逗号或控制字符"}),
                           where);
            }
        }
        where += " (" + c.id + ")";
        if (!ids.insert(c.id).second) return bad(i18n::text({"the id appears twice", "id 重复"}), where);
        for (auto [key, field, required] : {std::tuple{"title", &c.title, true},
                                            {"subject", &c.subject, false},
                                            {"grade", &c.grade, false},
                                            {"type", &c.type, true}}) {
            auto t = text(o, key, max_text, required, where);
            if (!t) return t.error();
            *field = std::move(*t);
        }
        auto url = text(o, "url", max_url, true, where);
        if (!url) return url.error();
        c.url = std::move(*url);
        if (!c.url.starts_with("http://") && !c.url.starts_with("https://")) {
            return bad(
                i18n::text({"\"url\" must be an http:// or https:// address", "“url”必须是 http:// 或 https:// 网址"}),
                where);
        }
        auto sha = text(o, "sha256", 64, true, where);
        if (!sha) return sha.error();
        if (!hex64(*sha)) {
            return bad(
                i18n::text({"\"sha256\" must be 64 lower-case hex digits", "“sha256”必须是 64 位小写十六进制数"}),
                where);
        }
        c.sha256 = std::move(*sha);
        auto size = integer(o, "size", 0, max_resource_bytes, true, where);
        if (!size) return size.error();
        c.size = *size;
        auto priority = integer(o, "priority", -100, 100, false, where);
        if (!priority) return priority.error();
        c.priority = static_cast<int>(*priority);
        out.push_back(std::move(c));
    }
    return out;
}

std::string encode_catalogue(const std::vector<catalogue_entry>& entries) {
    json::array list;
    for (const auto& c : entries) {
        list.push_back(json::object{{"id", c.id},
                                    {"title", c.title},
                                    {"subject", c.subject},
                                    {"grade", c.grade},
                                    {"type", c.type},
                                    {"url", c.url},
                                    {"sha256", c.sha256},
                                    {"size", c.size},
                                    {"priority", c.priority}});
    }
    return json::serialize(json::object{{"version", 1}, {"resources", std::move(list)}});
}

}  // namespace bbt::protocol
