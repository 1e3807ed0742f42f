/*
 * Force-included into every C and C++ file of a native addon built for the packages (scripts/package.mjs).
 * glibc 2.29-2.34 gave these functions new symbol versions (math without the old errno wrapper,
 * pthread and dl moved into libc); an addon linked here would ask for them and refuse to load on
 * UOS 20 (glibc 2.28) or Kylin V10 (2.31). The old versions are still exported by every newer glibc,
 * so binding to them runs everywhere from 2.28 on.
 */
#if defined(__x86_64__)
#define SMEW_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define SMEW_GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc baseline: no base symbol version known for this architecture (see docs/deployment.md)"
#endif
#define SMEW_PIN(name) __asm__(".symver " #name "," #name "@" SMEW_GLIBC_BASE);
SMEW_PIN(pthread_create)
SMEW_PIN(pthread_join)
SMEW_PIN(pthread_once)
SMEW_PIN(pthread_key_create)
SMEW_PIN(pthread_mutex_trylock)
SMEW_PIN(pthread_mutexattr_init)
SMEW_PIN(pthread_mutexattr_settype)
SMEW_PIN(pthread_mutexattr_destroy)
SMEW_PIN(dlopen)
SMEW_PIN(dlsym)
SMEW_PIN(dlerror)
SMEW_PIN(dlclose)
SMEW_PIN(exp)
SMEW_PIN(log)
SMEW_PIN(log2)
SMEW_PIN(pow)
