// The sanitizers' default options in a -DFOGBOW_SANITIZE=ON build. The top
// CMakeLists.txt compiles this file into every executable, so a process
// behaves the same whether ctest, a developer or an integration test
// starts it. ASAN_OPTIONS and UBSAN_OPTIONS in the environment still
// override single options.
//
// Every report stops the process (halt_on_error, abort_on_error): a test
// cannot pass with a finding in its output. The only suppressions are in
// ubsan.supp (FOGBOW_UBSAN_SUPPRESSIONS, its absolute path).

extern "C" const char* __asan_default_options() {
  return "abort_on_error=1:detect_leaks=1";
}

extern "C" const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:"
         "suppressions=" FOGBOW_UBSAN_SUPPRESSIONS;
}
