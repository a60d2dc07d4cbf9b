#include "bbt/protocol/gzip.hpp"

#include "bbt/base/i18n.hpp"

#include <zlib.h>

#include <cstring>

namespace bbt::protocol {
namespace {

constexpr int gzip_window = 15 + 16;  // zlib's way of saying "gzip wrapper"

error gzip_error(std::string_view what) {
    return error(std::make_error_code(std::errc::illegal_byte_sequence),
                 i18n::format({"the compressed body is invalid: {}", "压缩数据无效：{}"}, what));
}

}  // namespace

std::string gzip(std::string_view data) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

result<std::string> gunzip(std::string_view data, size_t max_out) {
    z_stream z{};
    if (inflateInit2(&z, gzip_window) != Z_OK) return gzip_error("zlib");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return gzip_error(rc == Z_BUF_ERROR ? "cut short" : (z.msg ? z.msg : "not gzip"));
        }
        out.append(chunk, sizeof chunk - z.avail_out);
        if (out.size() > max_out) {
            inflateEnd(&z);
            return error(
                std::make_error_code(std::errc::message_size),
                i18n::format({"the compressed body expands beyond {} bytes", "压缩数据解压后超过 {} 字节"}, max_out));
        }
    }
    inflateEnd(&z);
    return out;
}

}  // namespace bbt::protocol
