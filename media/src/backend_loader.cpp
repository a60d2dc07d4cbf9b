#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/media/errors.hpp"
#include "bbt/media/versions.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace bbt::media {
namespace {

using entry_point = const backend* (*)();

struct loaded {
    const backend* b = nullptr;
    std::string failure;
};

loaded load_once() {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("BBT_MEDIA_MODULE"); env && *env) candidates.emplace_back(env);
    candidates.emplace_back(BBT_MEDIA_MODULE_INSTALLED);
    candidates.emplace_back(BBT_MEDIA_MODULE_BUILD);
    std::string tried;
    for (const auto& path : candidates) {
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            tried += "\n  " + std::string(::dlerror());
            continue;
        }
        auto entry = reinterpret_cast<entry_point>(::dlsym(handle, "bbt_media_backend_v2"));
        if (entry == nullptr) {
            tried += "\n  " + path + ": not a bbt media module";
            ::dlclose(handle);
            continue;
        }
        return {entry(), {}};  // kept open for the life of the process
    }
    return {nullptr, tried};
}

// The module links its own copy of bbt_base, so its error categories are
// other objects than ours: its errors are re-made in our categories, so that
// callers can compare codes.
error rehome(const error& e) {
    std::string_view name = e.code().category().name();
    if (name == base_category().name()) {
        return error(static_cast<base_errc>(e.code().value()), e.message(), e.context());
    }
    if (name == media_category().name()) {
        return error(static_cast<media_errc>(e.code().value()), e.message(), e.context());
    }
    return e;
}

}  // namespace

result<const backend*> load_backend() {
    static std::once_flag once;
    static loaded state;
    std::call_once(once, [] { state = load_once(); });
    if (state.b == nullptr) {
        return error(base_errc::not_found,
                     i18n::format({"cannot load the FFmpeg media module bbt_media_ffmpeg.so; reinstall bbt, or set "
                                   "BBT_MEDIA_MODULE to its path. Tried:{}",
                                   "无法加载 FFmpeg 媒体模块 bbt_media_ffmpeg.so；请重新安装 bbt，或将 "
                                   "BBT_MEDIA_MODULE 设为其路径。已尝试：{}"},
                                  state.failure));
    }
    return state.b;
}

namespace {

// The module, told the program's language and log levels as they are now
// (a person's language may be set after the module was first loaded).
result<const backend*> configured_backend() {
    auto b = load_backend();
    if (!b) return b;
    auto spec = log::current_spec();
    (*b)->configure(i18n::current(), spec.c_str());
    return b;
}

}  // namespace

result<probe_info> probe(const std::filesystem::path& file, const std::filesystem::path& thumbnail, expect what) {
    auto b = configured_backend();
    if (!b) return b.error();
    auto r = (*b)->probe(file, thumbnail, what);
    if (!r) return rehome(r.error());
    return r;
}

result<std::unique_ptr<recording>> start_recording(const recorder_options& options) {
    auto b = configured_backend();
    if (!b) return b.error();
    auto r = (*b)->start_recording(options);
    if (!r) return rehome(r.error());
    return r;
}

std::vector<library_version> library_versions() {
    auto b = configured_backend();
    if (!b) return {{"FFmpeg", "-", b.error().message()}};
    return (*b)->library_versions();
}

}  // namespace bbt::media
