// The only file of bbt that includes toml++.
#include "bbt/base/config.hpp"

#include "bbt/base/i18n.hpp"

#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>

namespace bbt::config {

struct document::impl {
    toml::table table;
};

namespace {

const toml::table* as_table(const void* p) { return static_cast<const toml::table*>(p); }
const toml::node* as_node(const void* p) { return static_cast<const toml::node*>(p); }

int line_of(const toml::node* n) { return n ? static_cast<int>(n->source().begin.line) : 0; }

const char* type_name(const toml::node* n) {
    switch (n->type()) {
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
        default: return "nothing";
    }
}

}  // namespace

document::document(document&&) noexcept = default;
document& document::operator=(document&&) noexcept = default;
document::~document() = default;

result<document> document::parse(std::string_view text, std::string source) {
    document doc;
    doc.source_ = std::move(source);
    doc.impl_ = std::make_unique<impl>();
    try {
        doc.impl_->table = toml::parse(text, std::string_view(doc.source_));
    } catch (const toml::parse_error& e) {
        return error(base_errc::config_syntax,
                     i18n::format({"{}:{}:{}: not valid TOML: {}", "{}:{}:{}：不是有效的 TOML：{}"}, doc.source_,
                                  e.source().begin.line, e.source().begin.column, e.description()));
    }
    return doc;
}

section document::root() { return section(*this, &impl_->table, ""); }

void document::add(std::error_code code, int line, std::string_view key, std::string message) {
    if (problems_.empty()) first_code_ = code;
    problems_.push_back(i18n::format({"{}:{}: key '{}': {}", "{}:{}：键“{}”：{}"}, source_, line, key, message));
}

result<void> document::outcome() const {
    if (problems_.empty()) return {};
    std::string all;
    for (const auto& p : problems_) {
        if (!all.empty()) all += '\n';
        all += p;
    }
    return error(first_code_, std::move(all));
}

std::string section::full(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const void* section::node(std::string_view key) {
    read_.emplace_back(key);
    if (table_ == nullptr) return nullptr;
    return as_table(table_)->get(key);
}

bool section::has(std::string_view key) const { return table_ != nullptr && as_table(table_)->contains(key); }

void section::type_error(std::string_view key, const void* n, std::string_view expected) {
    doc_->add(base_errc::config_type, line_of(as_node(n)), full(key),
              i18n::format({"must be {}, but is a {}", "应为{}，实际为 {}"}, expected, type_name(as_node(n))));
}

void section::fail(std::string_view key, std::string_view message) {
    const toml::node* n = table_ ? as_table(table_)->get(key) : nullptr;
    int line = n ? line_of(n) : (table_ ? line_of(as_table(table_)) : 0);
    doc_->add(base_errc::config_value, line, full(key), std::string(message));
}

section& section::get(std::string_view key, std::string& out) {
    const auto* n = as_node(node(key));
    if (!n) return *this;
    if (auto v = n->value<std::string>(); v && n->is_string()) {
        out = *v;
    } else {
        type_error(key, n, i18n::text({"a string", "字符串"}));
    }
    return *this;
}

section& section::get(std::string_view key, bool& out) {
    const auto* n = as_node(node(key));
    if (!n) return *this;
    if (n->is_boolean()) {
        out = *n->value<bool>();
    } else {
        type_error(key, n, i18n::text({"true or false", "true 或 false"}));
    }
    return *this;
}

section& section::get(std::string_view key, int64_t& out, int64_t min, int64_t max) {
    const auto* n = as_node(node(key));
    if (!n) return *this;
    if (!n->is_integer()) {
        type_error(key, n, i18n::text({"an integer", "整数"}));
        return *this;
    }
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) {
        doc_->add(base_errc::config_value, line_of(n), full(key),
                  i18n::format({"{} is out of range: use {} to {}", "{} 超出范围：应在 {} 到 {} 之间"}, v, min, max));
        return *this;
    }
    out = v;
    return *this;
}

section& section::get(std::string_view key, double& out, double min, double max) {
    const auto* n = as_node(node(key));
    if (!n) return *this;
    if (!n->is_number()) {
        type_error(key, n, i18n::text({"a number", "数字"}));
        return *this;
    }
    double v = n->is_integer() ? static_cast<double>(*n->value<int64_t>()) : *n->value<double>();
    if (!std::isfinite(v) || v < min || v > max) {
        doc_->add(base_errc::config_value, line_of(n), full(key),
                  i18n::format({"{} is out of range: use {} to {}", "{} 超出范围：应在 {} 到 {} 之间"}, v, min, max));
        return *this;
    }
    out = v;
    return *this;
}

section& section::get_seconds(std::string_view key, std::chrono::milliseconds& out, double min_s, double max_s) {
    double seconds = -1;
    bool present = has(key);
    get(key, seconds, min_s, max_s);
    if (present && seconds >= min_s && seconds <= max_s) {
        out = std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
    }
    return *this;
}

section& section::get(std::string_view key, std::vector<std::string>& out) {
    const auto* n = as_node(node(key));
    if (!n) return *this;
    const auto* arr = n->as_array();
    if (!arr) {
        type_error(key, n, i18n::text({"an array of strings", "字符串数组"}));
        return *this;
    }
    std::vector<std::string> values;
    for (const auto& item : *arr) {
        if (!item.is_string()) {
            type_error(key, &item, i18n::text({"an array of strings", "字符串数组"}));
            return *this;
        }
        values.push_back(*item.value<std::string>());
    }
    out = std::move(values);
    return *this;
}

section section::table(std::string_view key) {
    const auto* n = as_node(node(key));
    if (n && !n->is_table()) {
        type_error(key, n, i18n::text({"a table", "表"}));
        n = nullptr;
    }
    return section(*doc_, n ? n->as_table() : nullptr, full(key));
}

void section::finish() {
    if (table_ == nullptr) return;
    for (const auto& [k, v] : *as_table(table_)) {
        std::string_view name = k.str();
        if (std::find(read_.begin(), read_.end(), name) != read_.end()) continue;
        std::string known;
        for (const auto& r : read_)
            known += (known.empty() ? "" : ", ") + r;
        doc_->add(base_errc::config_key, static_cast<int>(k.source().begin.line), full(name),
                  i18n::format({"unknown key; known keys here are: {}", "未知的键；此处可用的键为：{}"},
                               known.empty() ? "-" : known));
    }
}

}  // namespace bbt::config
