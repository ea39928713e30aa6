// basic: the README's first sample — connect, write, read, one pipeline.
//
// Usage: basic [--host 127.0.0.1] [--port 6379]
#include <fibredis/fibredis.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 6379;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
  }
  fibredis::Runtime rt;
  try {
    rt.run([&] {
      fibredis::Client r({.host = host, .port = static_cast<std::uint16_t>(port)});
      r.set("basic:greeting", "hello");
      std::optional<std::string> v = r.get("basic:greeting");   // blocks this fiber only
      std::cout << "GET basic:greeting -> " << v.value_or("(nil)") << "\n";

      auto p = r.pipeline();                                     // one write, one round trip
      p.incr("basic:counter").incr("basic:counter").get("basic:counter");
      std::vector<fibredis::Reply> replies = p.execute();
      std::cout << "pipeline -> " << replies.back().to_string() << "\n";
      r.del({"basic:greeting", "basic:counter"});
    });
  } catch (const fibredis::Error& e) {
    std::cerr << "basic: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
