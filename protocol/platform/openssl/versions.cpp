// OpenSSL is included only under protocol/platform/openssl.
#include "bbt/protocol/versions.hpp"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

namespace bbt::protocol {

std::vector<library_version> library_versions() {
    return {{"OpenSSL", OPENSSL_FULL_VERSION_STR, ::OpenSSL_version(OPENSSL_FULL_VERSION_STRING)}};
}

}  // namespace bbt::protocol
