/// File I/O calls that Swift's Glibc module does not show (glibc declares them only
/// under _GNU_SOURCE), as inline functions prefixed with the module's name.
#pragma once

#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#endif

/// Starts writeback of [offset, offset + length) without waiting for it
/// (sync_file_range with SYNC_FILE_RANGE_WRITE). Returns 0, or -1 with errno set;
/// elsewhere than Linux it does nothing and returns 0.
static inline int cfileio_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
