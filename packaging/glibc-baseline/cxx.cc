// GCC 11's headers call std::__throw_bad_array_new_length (GLIBCXX_3.4.29); the libstdc++ of UOS 20
// (GCC 8) and Kylin V10 (GCC 9) lacks it, so the addon carries its own, hidden.
#include <new>
namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() {
  throw bad_array_new_length();
}
}  // namespace std
