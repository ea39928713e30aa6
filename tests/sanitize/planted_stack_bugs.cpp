// Two stack bugs, planted on purpose, for tests/sanitize/expect_asan_report.sh: built with exactly
// the flags the sanitizer build gives pure logic (lib/meson.build), each must be reported by ASan.
// If a flag such as --param=asan-stack=0 crept back onto pure-logic code, neither would be.
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

// noinline and volatile index: the compiler must not prove the access out of bounds and drop it.
[[gnu::noinline]] int overflow(volatile int past) {
  char buf[16];
  std::memset(buf, 'x', sizeof buf);
  return buf[16 + past];  // one byte past the array (past == 0)
}

[[gnu::noinline]] int use_after_scope(volatile int v) {
  volatile char* p = nullptr;
  {
    char local[8] = {};
    local[0] = static_cast<char>(v);
    p = local;
  }
  return p[0];  // `local` is out of scope here
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view bug = argc > 1 ? argv[1] : "";
  int r = 0;
  if (bug == "stack-buffer-overflow") r = overflow(0);
  else if (bug == "stack-use-after-scope") r = use_after_scope(1);
  else return 2;
  std::printf("no report (read %d)\n", r);
  return 0;
}
