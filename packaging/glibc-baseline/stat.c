/*
 * stat64, lstat64 and fstat64 became exported functions in glibc 2.33; before, <sys/stat.h> turned them
 * into calls of __xstat64 and friends, which every glibc since still exports. The addon carries these
 * hidden definitions, so its own calls bind here and never ask for GLIBC_2.33.
 */
#define _LARGEFILE64_SOURCE 1 /* struct stat64 */
#include <sys/stat.h>
#if defined(__x86_64__)
#define SMEW_GLIBC_BASE "GLIBC_2.2.5"
#define SMEW_STAT_VER 1 /* _STAT_VER_LINUX */
#elif defined(__aarch64__)
#define SMEW_GLIBC_BASE "GLIBC_2.17"
#define SMEW_STAT_VER 0 /* _STAT_VER of the generic ABI */
#endif
extern int __xstat64(int, const char *, struct stat64 *);
extern int __lxstat64(int, const char *, struct stat64 *);
extern int __fxstat64(int, int, struct stat64 *);
__asm__(".symver __xstat64,__xstat64@" SMEW_GLIBC_BASE);
__asm__(".symver __lxstat64,__lxstat64@" SMEW_GLIBC_BASE);
__asm__(".symver __fxstat64,__fxstat64@" SMEW_GLIBC_BASE);

__attribute__((visibility("hidden"))) int stat64(const char *path, struct stat64 *buf) {
  return __xstat64(SMEW_STAT_VER, path, buf);
}
__attribute__((visibility("hidden"))) int lstat64(const char *path, struct stat64 *buf) {
  return __lxstat64(SMEW_STAT_VER, path, buf);
}
__attribute__((visibility("hidden"))) int fstat64(int fd, struct stat64 *buf) {
  return __fxstat64(SMEW_STAT_VER, fd, buf);
}
