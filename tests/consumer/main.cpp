// The consumer project's program: proves the headers, the library and its dependencies reach a
// project that only said dependency('fibredis') through a wrap file. Needs no server.
#include <fibredis/cluster/slot.hpp>
#include <fibredis/fibredis.hpp>

#include <iostream>

int main() {
  // CLUSTER KEYSLOT foo = 12182; a {hash tag} hashes only what is inside the braces (cluster spec).
  const unsigned foo = fibredis::key_slot("foo");
  const unsigned tagged = fibredis::key_slot("{user1000}.following");
  int slept = 0;
  fibredis::Runtime rt;
  rt.run([&] {
    fibredis::spawn([&] { ++slept; });
  });
  static_assert(FIBREDIS_VERSION == FIBREDIS_VERSION_MAJOR * 10000 + FIBREDIS_VERSION_MINOR * 100 +
                                     FIBREDIS_VERSION_PATCH);
  std::cout << "consumer: fibredis " << FIBREDIS_VERSION_STRING << " slot(foo)=" << foo << " slot({user1000}.following)=" << tagged
            << " fibers=" << slept << "\n";
  return foo == 12182 && tagged == fibredis::key_slot("user1000") && slept == 1 ? 0 : 1;
}
