// Reading configuration files (TOML) against the keys a program knows.
//
// Unknown keys and values of the wrong type are errors that name the file,
// the line and the key; every problem in a file is reported at once, so that
// a technician fixes them in one go. The parser is a pure function of the
// text: no I/O, which makes it fuzzable.
#pragma once

#include "bbt/base/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::config {

class document;

// A view of one table of a document. Reading a key marks it known; finish()
// reports every key that nobody read.
class section {
public:
    // Each getter leaves `out` untouched when the key is absent and records an
    // error when it has the wrong type or is out of range.
    section& get(std::string_view key, std::string& out);
    section& get(std::string_view key, bool& out);
    section& get(std::string_view key, int64_t& out, int64_t min, int64_t max);
    section& get(std::string_view key, double& out, double min, double max);
    section& get(std::string_view key, std::vector<std::string>& out);
    // A duration given in seconds, integer or fractional.
    section& get_seconds(std::string_view key, std::chrono::milliseconds& out, double min_s, double max_s);

    // A sub-table; absent gives an empty section, another type an error.
    [[nodiscard]] section table(std::string_view key);
    [[nodiscard]] bool has(std::string_view key) const;

    // Records an error about `key` of this section (for checks across keys).
    void fail(std::string_view key, std::string_view message);

    // Reports keys that were never read. Call once, after all getters.
    void finish();

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    friend class document;
    section(document& doc, const void* table, std::string path) : doc_(&doc), table_(table), path_(std::move(path)) {}
    const void* node(std::string_view key);
    std::string full(std::string_view key) const;
    void type_error(std::string_view key, const void* node, std::string_view expected);

    document* doc_;
    const void* table_;  // a toml::table, or null for an absent table
    std::string path_;
    std::vector<std::string> read_;
};

class document {
public:
    // Parses `text`; `source` (usually the file path) names it in errors.
    // A syntax error is returned at once, with its line.
    [[nodiscard]] static result<document> parse(std::string_view text, std::string source);

    document(document&&) noexcept;
    document& operator=(document&&) noexcept;
    ~document();

    [[nodiscard]] section root();
    [[nodiscard]] const std::string& source() const noexcept { return source_; }

    // Every problem recorded so far, one line each: "FILE:LINE: key 'K': ...".
    [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }
    // Ok when nothing was recorded; otherwise one error holding every problem.
    [[nodiscard]] result<void> outcome() const;

private:
    friend class section;
    document() = default;
    void add(std::error_code code, int line, std::string_view key, std::string message);

    struct impl;
    std::unique_ptr<impl> impl_;
    std::string source_;
    std::vector<std::string> problems_;
    std::error_code first_code_;
};

}  // namespace bbt::config
