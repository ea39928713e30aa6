// A program built with nothing but `pkg-config --cflags --libs fibredis` against an installed copy
// (tests/consumer-pkgconfig/check.sh). It talks to the real redis-server the script started, from
// many fibers at once, so the Boost.Fiber symbols the headers reach for must link and work.
// Usage: consumer HOST PORT
#include <fibredis/fibredis.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer HOST PORT\n";
    return 2;
  }
  const std::string host = argv[1];
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  constexpr int kFibers = 100;
  int failures = 0;
  long long counted = 0;
  try {
    fibredis::Runtime rt;
    rt.run([&] {
      fibredis::Client c({.host = host, .port = port});
      c.del({"consumer:n"});
      {
        std::vector<fibredis::Fiber> fibers;  // joined on destruction, before c
        for (int i = 0; i < kFibers; ++i)
          fibers.emplace_back([&c, &failures, i] {
            const std::string key = "consumer:k" + std::to_string(i);
            c.set(key, std::to_string(i));
            if (c.get(key) != std::to_string(i)) ++failures;
            c.incr("consumer:n");
          });
      }
      counted = std::stoll(c.get("consumer:n").value_or("0"));
    });
  } catch (const fibredis::Error& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
  std::cout << "consumer-pkgconfig: fibredis " << FIBREDIS_VERSION_STRING << ", " << kFibers
            << " fibers, " << failures << " wrong reads, INCR counted " << counted << "\n";
  return failures == 0 && counted == kFibers ? 0 : 1;
}
