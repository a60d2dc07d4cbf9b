// JSON as this project writes it: always valid UTF-8. Boost.JSON serialises a
// string's bytes as they are but refuses invalid UTF-8 when it reads, so a
// single broken byte from outside (a lesson name cut in a character, a GBK
// firmware string) would make a message, a file or a reply unreadable by
// every reader after it. Every encoder of the county link, the local API and
// the files the agent keeps writes through `serialize`.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace bbt::protocol::json_text {

// Every string and every key in `v` made valid UTF-8 (ill-formed bytes become
// U+FFFD).
void repair(boost::json::value& v);

// `v` as JSON text that any JSON reader accepts: serialised, and when that is
// not valid UTF-8, serialised again from a repaired copy.
[[nodiscard]] std::string serialize(const boost::json::value& v);

}  // namespace bbt::protocol::json_text
