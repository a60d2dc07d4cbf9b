// Text from outside is valid UTF-8, always. Every string that enters the
// agent or bbt-county from a device, a file, a firmware table or the network
// passes through one of these before it is kept, logged or sent: JSON
// (Boost.JSON) writes invalid bytes as they are and then refuses to read them
// back, so one broken byte would make a message, a facts file or a reply
// unreadable.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bbt::utf8 {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing
// above U+10FFFF).
[[nodiscard]] bool valid(std::string_view s) noexcept;

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a character. `s` should be valid; an invalid tail is cut like any other.
[[nodiscard]] std::string_view cut(std::string_view s, std::size_t max_bytes) noexcept;

// `s` with every ill-formed sequence replaced by one U+FFFD; valid input is
// returned unchanged.
[[nodiscard]] std::string repair(std::string_view s);

// repair(), then cut() to at most `max_bytes` (a repaired string can be longer
// than its input: U+FFFD takes three bytes).
[[nodiscard]] std::string clean(std::string_view s, std::size_t max_bytes = std::string_view::npos);

// UTF-16 in host order (USB string descriptors) as UTF-8: ends at the first
// NUL, an unpaired surrogate becomes U+FFFD.
[[nodiscard]] std::string from_utf16(std::u16string_view s);

// The whole of `s` decoded as GB18030 (a superset of GBK and GB2312), or
// nothing when any of it is not GB18030.
[[nodiscard]] std::optional<std::string> from_gb18030(std::string_view s);

// Text from firmware or hardware that names no encoding (DMI strings written
// by Chinese OEM BIOSes are GBK, projectors' names are UTF-8 or Latin-1):
// valid UTF-8 as it is; else, when the whole of it decodes as GB18030 (a
// superset of GBK and GB2312), decoded; else repaired.
[[nodiscard]] std::string from_legacy(std::string_view s);

}  // namespace bbt::utf8
