#include "bbt/base/sqlite_fault.hpp"

#include <sqlite3.h>

#include <cstring>

namespace bbt::sqlite::fault {
namespace {

sqlite3_vfs* base_vfs = nullptr;
sqlite3_vfs vfs{};
int armed_at = -1;
int seen = 0;
bool hit = false;
kind what = kind::io_error;

// Whether this operation is the armed one; counts it.
bool fail_now() {
    if (armed_at < 0) return false;
    bool fail = seen == armed_at;
    ++seen;
    if (fail) hit = true;
    return fail;
}

int failure(int io_code) { return what == kind::disk_full ? SQLITE_FULL : io_code; }

// A file of the faulty VFS: the base VFS's file, followed in memory by ours.
struct file {
    sqlite3_file base_header;  // our methods
    sqlite3_file* real;        // the base VFS's file, right after this struct
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<file*>(f)->real; }

int x_close(sqlite3_file* f) {
    auto* r = real_of(f);
    int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
    return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
    auto* r = real_of(f);
    return r->pMethods->xRead(r, buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (fail_now()) return failure(SQLITE_IOERR_WRITE);
    auto* r = real_of(f);
    return r->pMethods->xWrite(r, buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    if (fail_now()) return failure(SQLITE_IOERR_TRUNCATE);
    auto* r = real_of(f);
    return r->pMethods->xTruncate(r, size);
}
int x_sync(sqlite3_file* f, int flags) {
    if (fail_now()) return failure(SQLITE_IOERR_FSYNC);
    auto* r = real_of(f);
    return r->pMethods->xSync(r, flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    auto* r = real_of(f);
    return r->pMethods->xFileSize(r, size);
}
int x_lock(sqlite3_file* f, int l) {
    auto* r = real_of(f);
    return r->pMethods->xLock(r, l);
}
int x_unlock(sqlite3_file* f, int l) {
    auto* r = real_of(f);
    return r->pMethods->xUnlock(r, l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
    auto* r = real_of(f);
    return r->pMethods->xCheckReservedLock(r, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
    auto* r = real_of(f);
    return r->pMethods->xFileControl(r, op, arg);
}
int x_sector_size(sqlite3_file* f) {
    auto* r = real_of(f);
    return r->pMethods->xSectorSize(r);
}
int x_device_characteristics(sqlite3_file* f) {
    auto* r = real_of(f);
    return r->pMethods->xDeviceCharacteristics(r);
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    auto* r = real_of(f);
    return r->pMethods->xShmMap(r, page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    auto* r = real_of(f);
    return r->pMethods->xShmLock(r, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
    auto* r = real_of(f);
    r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* f, int del) {
    auto* r = real_of(f);
    return r->pMethods->xShmUnmap(r, del);
}

// Version 2 methods (WAL's shared memory); no memory-mapped I/O, so that
// every write goes through xWrite.
const sqlite3_io_methods methods = {
    2,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    nullptr,
    nullptr,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    auto* ours = reinterpret_cast<file*>(f);
    ours->real = reinterpret_cast<sqlite3_file*>(ours + 1);
    std::memset(ours->real, 0, static_cast<size_t>(base_vfs->szOsFile));
    int rc = base_vfs->xOpen(base_vfs, name, ours->real, flags, out_flags);
    ours->base_header.pMethods = rc == SQLITE_OK ? &methods : nullptr;
    return rc;
}
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
    if (fail_now()) return failure(SQLITE_IOERR_DELETE);
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
    return base_vfs->xAccess(base_vfs, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
    return base_vfs->xFullPathname(base_vfs, name, n, out);
}
int x_randomness(sqlite3_vfs*, int n, char* out) { return base_vfs->xRandomness(base_vfs, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return base_vfs->xSleep(base_vfs, us); }
int x_current_time(sqlite3_vfs*, double* out) { return base_vfs->xCurrentTime(base_vfs, out); }
int x_last_error(sqlite3_vfs*, int n, char* out) { return base_vfs->xGetLastError(base_vfs, n, out); }
void* x_dl_open(sqlite3_vfs*, const char* name) { return base_vfs->xDlOpen(base_vfs, name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { base_vfs->xDlError(base_vfs, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* sym))(void) { return base_vfs->xDlSym(base_vfs, handle, sym); }
void x_dl_close(sqlite3_vfs*, void* handle) { base_vfs->xDlClose(base_vfs, handle); }
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return base_vfs->xCurrentTimeInt64(base_vfs, out); }

}  // namespace

void install() {
    if (base_vfs != nullptr) return;
    base_vfs = ::sqlite3_vfs_find(nullptr);
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(file)) + base_vfs->szOsFile;
    vfs.mxPathname = base_vfs->mxPathname;
    vfs.zName = "bbt-fault";
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xDlOpen = x_dl_open;
    vfs.xDlError = x_dl_error;
    vfs.xDlSym = x_dl_sym;
    vfs.xDlClose = x_dl_close;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_last_error;
    vfs.xCurrentTimeInt64 = x_current_time_int64;
    ::sqlite3_vfs_register(&vfs, 1);
}

void arm(int step, kind k) {
    armed_at = step;
    seen = 0;
    hit = false;
    what = k;
}

bool fired() { return hit; }
int counted() { return seen; }

}  // namespace bbt::sqlite::fault
