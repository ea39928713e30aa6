// Two stack bugs, planted on purpose, for tests/sanitize/expect_asan_report.sh: built with exactly
// the flags the sanitizer build gives pure logic (lib/meson.build), each must be reported by ASan.
// If a flag such as --param=asan-stack=0 crept back onto pure-logic code, neither would be.
#include <cstddef>
#include <cstdio>
#include <string_view>

// GCC's noipa also stops constant propagation into the function; clang has only noinline.
#if defined(__clang__)
#define PLANTED_OPAQUE [[gnu::noinline]]
#else
#define PLANTED_OPAQUE [[gnu::noipa]]
// The dangling read below is the point of the program.
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace {

// noipa, an index known only at run time and a volatile array: the compiler may neither fold the
// read into a known value (an out-of-bounds read is undefined, so it may assume any) nor drop it.
PLANTED_OPAQUE int overflow(std::size_t i) {
  volatile char buf[16];
  for (std::size_t k = 0; k < sizeof buf; ++k) buf[k] = 'x';
  return buf[i];  // i == 16: one byte past the array
}

PLANTED_OPAQUE int use_after_scope(int v) {
  char* p = nullptr;
  {
    char local[8] = {};
    local[0] = static_cast<char>(v);
    p = local;
  }
  return *static_cast<volatile char*>(p);  // `local` is out of scope here
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view bug = argc > 1 ? argv[1] : "";
  int r = 0;
  if (bug == "stack-buffer-overflow") r = overflow(bug.size() - 5);  // 21 - 5 = 16
  else if (bug == "stack-use-after-scope") r = use_after_scope(argc);
  else return 2;
  std::printf("no report (read %d)\n", r);
  return 0;
}
