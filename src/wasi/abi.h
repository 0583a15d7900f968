/*
 * wasi/abi.h - numbers and memory layouts of WASI preview 1, as the guest sees
 * them (wasi_snapshot_preview1.witx). Internal to src/wasi/.
 *
 * Every structure crosses the boundary as little-endian bytes at an arbitrary
 * (possibly unaligned) guest address, so layouts are given as byte offsets and
 * sizes, never as C structs that the compiler could pad differently.
 */
#ifndef WATER_WASI_ABI_H
#define WATER_WASI_ABI_H

#include <stdint.h>

/* ---- filetype (u8) --------------------------------------------------- */
#define WASI_FILETYPE_UNKNOWN 0
#define WASI_FILETYPE_BLOCK_DEVICE 1
#define WASI_FILETYPE_CHARACTER_DEVICE 2
#define WASI_FILETYPE_DIRECTORY 3
#define WASI_FILETYPE_REGULAR_FILE 4
#define WASI_FILETYPE_SOCKET_DGRAM 5
#define WASI_FILETYPE_SOCKET_STREAM 6
#define WASI_FILETYPE_SYMBOLIC_LINK 7

/* ---- fdflags (u16) --------------------------------------------------- */
#define WASI_FDFLAG_APPEND 0x01u
#define WASI_FDFLAG_DSYNC 0x02u
#define WASI_FDFLAG_NONBLOCK 0x04u
#define WASI_FDFLAG_RSYNC 0x08u
#define WASI_FDFLAG_SYNC 0x10u

/* ---- oflags (u16), lookupflags (u32) --------------------------------- */
#define WASI_OFLAG_CREAT 0x01u
#define WASI_OFLAG_DIRECTORY 0x02u
#define WASI_OFLAG_EXCL 0x04u
#define WASI_OFLAG_TRUNC 0x08u
#define WASI_LOOKUP_SYMLINK_FOLLOW 0x01u

/* ---- rights (u64) ---------------------------------------------------- */
#define WASI_RIGHT_FD_DATASYNC (UINT64_C(1) << 0)
#define WASI_RIGHT_FD_READ (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_SEEK (UINT64_C(1) << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS (UINT64_C(1) << 3)
#define WASI_RIGHT_FD_SYNC (UINT64_C(1) << 4)
#define WASI_RIGHT_FD_TELL (UINT64_C(1) << 5)
#define WASI_RIGHT_FD_WRITE (UINT64_C(1) << 6)
#define WASI_RIGHT_FD_ADVISE (UINT64_C(1) << 7)
#define WASI_RIGHT_FD_ALLOCATE (UINT64_C(1) << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY (UINT64_C(1) << 9)
#define WASI_RIGHT_PATH_CREATE_FILE (UINT64_C(1) << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE (UINT64_C(1) << 11)
#define WASI_RIGHT_PATH_LINK_TARGET (UINT64_C(1) << 12)
#define WASI_RIGHT_PATH_OPEN (UINT64_C(1) << 13)
#define WASI_RIGHT_FD_READDIR (UINT64_C(1) << 14)
#define WASI_RIGHT_PATH_READLINK (UINT64_C(1) << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE (UINT64_C(1) << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET (UINT64_C(1) << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET (UINT64_C(1) << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE (UINT64_C(1) << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (UINT64_C(1) << 20)
#define WASI_RIGHT_FD_FILESTAT_GET (UINT64_C(1) << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE (UINT64_C(1) << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES (UINT64_C(1) << 23)
#define WASI_RIGHT_PATH_SYMLINK (UINT64_C(1) << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY (UINT64_C(1) << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE (UINT64_C(1) << 26)
#define WASI_RIGHT_POLL_FD_READWRITE (UINT64_C(1) << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN (UINT64_C(1) << 28)
#define WASI_RIGHT_SOCK_ACCEPT (UINT64_C(1) << 29)

/* ---- whence (u8), advice (u8), clocks (u32) --------------------------- */
#define WASI_WHENCE_SET 0
#define WASI_WHENCE_CUR 1
#define WASI_WHENCE_END 2
#define WASI_ADVICE_MAX 5 /* NORMAL .. NOREUSE */
#define WASI_CLOCK_REALTIME 0
#define WASI_CLOCK_MONOTONIC 1
#define WASI_CLOCK_PROCESS_CPUTIME 2
#define WASI_CLOCK_THREAD_CPUTIME 3

/* ---- sockets --------------------------------------------------------- */
#define WASI_RIFLAG_RECV_PEEK 0x01u
#define WASI_RIFLAG_RECV_WAITALL 0x02u
#define WASI_ROFLAG_RECV_DATA_TRUNCATED 0x01u
#define WASI_SDFLAG_RD 0x01u
#define WASI_SDFLAG_WR 0x02u

/* ---- iovec / ciovec: 8 bytes {u32 buf, u32 buf_len} ------------------- */
#define WASI_IOVEC_SIZE 8

/* ---- fdstat: 24 bytes ------------------------------------------------ */
#define WASI_FDSTAT_SIZE 24
#define WASI_FDSTAT_FILETYPE 0  /* u8 */
#define WASI_FDSTAT_FLAGS 2     /* u16 */
#define WASI_FDSTAT_RIGHTS 8    /* u64 */
#define WASI_FDSTAT_INHERIT 16  /* u64 */

/* ---- filestat: 64 bytes ---------------------------------------------- */
#define WASI_FILESTAT_SIZE 64
#define WASI_FILESTAT_DEV 0
#define WASI_FILESTAT_INO 8
#define WASI_FILESTAT_FILETYPE 16 /* u8 */
#define WASI_FILESTAT_NLINK 24
#define WASI_FILESTAT_SIZE_OFF 32
#define WASI_FILESTAT_ATIM 40
#define WASI_FILESTAT_MTIM 48
#define WASI_FILESTAT_CTIM 56

/* ---- prestat: 8 bytes {u8 tag (0 = dir), u32 name_len at 4} ----------- */
#define WASI_PRESTAT_SIZE 8
#define WASI_PREOPENTYPE_DIR 0

/* ---- dirent: 24-byte header, then the name (not NUL-terminated) ------- */
#define WASI_DIRENT_SIZE 24
#define WASI_DIRENT_NEXT 0    /* u64 cookie of the next entry */
#define WASI_DIRENT_INO 8     /* u64 */
#define WASI_DIRENT_NAMLEN 16 /* u32 */
#define WASI_DIRENT_TYPE 20   /* u8 filetype */

/* ---- subscription: 48 bytes ------------------------------------------ */
#define WASI_SUBSCRIPTION_SIZE 48
#define WASI_SUB_USERDATA 0      /* u64 */
#define WASI_SUB_TAG 8           /* u8 eventtype */
#define WASI_SUB_CLOCK_ID 16     /* u32 */
#define WASI_SUB_CLOCK_TIMEOUT 24 /* u64 */
#define WASI_SUB_CLOCK_PRECISION 32 /* u64 */
#define WASI_SUB_CLOCK_FLAGS 40  /* u16 */
#define WASI_SUB_FD 16           /* u32, for FD_READ and FD_WRITE */
#define WASI_SUBCLOCK_ABSTIME 0x01u

/* ---- event: 32 bytes ------------------------------------------------- */
#define WASI_EVENT_SIZE 32
#define WASI_EVENT_USERDATA 0 /* u64 */
#define WASI_EVENT_ERROR 8    /* u16 */
#define WASI_EVENT_TYPE 10    /* u8 */
#define WASI_EVENT_NBYTES 16  /* u64 */
#define WASI_EVENT_FLAGS 24   /* u16 */
#define WASI_EVENT_FD_READWRITE_HANGUP 0x01u

#define WASI_EVENTTYPE_CLOCK 0
#define WASI_EVENTTYPE_FD_READ 1
#define WASI_EVENTTYPE_FD_WRITE 2

#endif /* WATER_WASI_ABI_H */
