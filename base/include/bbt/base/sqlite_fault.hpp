// Storage that fails on purpose, for tests: a SQLite VFS over the default one
// that fails the Nth write, sync or truncate it sees (SQLITE_IOERR, or
// SQLITE_FULL as a full disk does), then goes on working. A test arms it at
// step 0, 1, 2 ... and runs an operation each time until the operation gets
// through without reaching the armed step: every error branch of the code
// above SQLite is then walked, with SQLite's own recovery underneath.
//
// Process-wide; databases opened while installed use it. Not thread-safe:
// one test at a time.
#pragma once

namespace bbt::sqlite::fault {

enum class kind { io_error, disk_full };

// Makes the VFS the default (idempotent); databases opened afterwards use it.
void install();
// Fails the `step`th counted operation from now (0: the next one); -1: none.
void arm(int step, kind k = kind::io_error);
// Whether the armed step was reached (and failed).
[[nodiscard]] bool fired();
// Operations counted since arm().
[[nodiscard]] int counted();

}  // namespace bbt::sqlite::fault
