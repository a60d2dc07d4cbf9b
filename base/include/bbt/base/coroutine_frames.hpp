// Included first by a source file whose Asio coroutines have large frames.
//
// GCC 12 reports such frames as freed by a mismatched operator delete: they
// are allocated and freed by the same awaitable_frame_base pair, through
// Asio's recycling allocator, so the warning is a false positive. It is
// silenced for the including file only (a source file, never a header).
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
