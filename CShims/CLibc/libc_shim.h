/// C library calls that Swift's Glibc module does not show (glibc declares them only
/// under _GNU_SOURCE, or in <malloc.h>), as inline functions prefixed with the
/// module's name. Elsewhere than Linux with glibc they do nothing.
#pragma once

#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <errno.h>
/* syncfs(2), as <unistd.h> declares it under _GNU_SOURCE; declared here rather than
   including <unistd.h>, whose types would then shadow Glibc's in Swift. */
extern int syncfs(int fd);
extern int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
/* <sys/xattr.h>'s calls, declared with its exact types on LP64 Linux (ssize_t is
   long, size_t unsigned long) for the same reason. */
extern long llistxattr(const char *path, char *list, unsigned long size);
extern long lgetxattr(const char *path, const char *name, void *value, unsigned long size);
extern int lsetxattr(const char *path, const char *name, const void *value, unsigned long size, int flags);
extern long flistxattr(int fd, char *list, unsigned long size);
extern long fgetxattr(int fd, const char *name, void *value, unsigned long size);
extern int fsetxattr(int fd, const char *name, const void *value, unsigned long size, int flags);
#else
#include <errno.h>
#endif
#ifdef __GLIBC__
#include <malloc.h>
#endif

/// Starts writeback of [offset, offset + length) without waiting for it
/// (sync_file_range with SYNC_FILE_RANGE_WRITE). Returns 0, or -1 with errno set.
static inline int clibc_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

/// Flushes the whole file system that holds fd (syncfs). Returns 0, or -1 with errno
/// set (ENOSYS where there is no syncfs).
static inline int clibc_sync_file_system(int fd) {
#ifdef __linux__
    return syncfs(fd);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}

/// Sets glibc malloc's mmap threshold and trim threshold (mallopt M_MMAP_THRESHOLD and
/// M_TRIM_THRESHOLD), in bytes. Returns 1 if both were set.
static inline int clibc_set_allocator_thresholds(int mmap_threshold, int trim_threshold) {
#ifdef __GLIBC__
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) && mallopt(M_TRIM_THRESHOLD, trim_threshold);
#else
    (void)mmap_threshold; (void)trim_threshold;
    return 0;
#endif
}

/// Opens an unnamed regular file (O_TMPFILE) in the directory dirfd, read-write,
/// linkable later with clibc_link_unnamed. Returns the descriptor, or -1 with errno
/// set (EOPNOTSUPP, EISDIR or EINVAL where the file system or kernel has no O_TMPFILE).
static inline int clibc_open_unnamed(int dirfd, int mode) {
#if defined(__linux__) && defined(O_TMPFILE)
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
#else
    (void)dirfd; (void)mode;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

/// Gives the unnamed file fd the name `name` in dirfd (linkat), failing with EEXIST
/// when the name is taken. AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (root has it);
/// without it the kernel says ENOENT and the link goes through /proc/self/fd/N.
static inline int clibc_link_unnamed(int fd, int dirfd, const char *name) {
#ifdef __linux__
    if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0) return 0;
    if (errno != ENOENT) return -1;
    char path[32] = "/proc/self/fd/";
    char digits[12];
    int count = 0;
    unsigned value = (unsigned)fd;
    do { digits[count++] = (char)('0' + value % 10); value /= 10; } while (value > 0 && count < 11);
    int at = 14;
    while (count > 0) path[at++] = digits[--count];
    path[at] = 0;
    return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW);
#else
    (void)fd; (void)dirfd; (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

/// Extended attributes (Linux): the names of `path`'s (not following a symlink) or
/// fd's when path is NULL, a value, or setting one. -1 with errno as the calls set it;
/// ENOTSUP elsewhere.
static inline long clibc_list_xattr(int fd, const char *path, char *list, unsigned long size) {
#ifdef __linux__
    return path ? llistxattr(path, list, size) : flistxattr(fd, list, size);
#else
    (void)fd; (void)path; (void)list; (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

static inline long clibc_get_xattr(int fd, const char *path, const char *name, void *value, unsigned long size) {
#ifdef __linux__
    return path ? lgetxattr(path, name, value, size) : fgetxattr(fd, name, value, size);
#else
    (void)fd; (void)path; (void)name; (void)value; (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

static inline int clibc_set_xattr(int fd, const char *path, const char *name, const void *value, unsigned long size) {
#ifdef __linux__
    return path ? lsetxattr(path, name, value, size, 0) : fsetxattr(fd, name, value, size, 0);
#else
    (void)fd; (void)path; (void)name; (void)value; (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}
