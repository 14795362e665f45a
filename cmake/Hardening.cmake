# An INTERFACE target with the hardening of each build type; link it PRIVATE to our own targets.
include(CheckCXXCompilerFlag)
add_library(addrservice_hardening INTERFACE)

# Debug (the dev, test, sanitizer and coverage builds): libstdc++ checks indices, iterators and
# preconditions, at no ABI change.
target_compile_definitions(addrservice_hardening INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

# Release: fortified libc calls (level 3 sizes objects at run time too; it needs optimisation, and a
# _FORTIFY_SOURCE set earlier by the toolchain is undefined first), stack protection, control-flow
# protection where the target has it, and a read-only relocation table.
set(addrservice_release_flags -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong)
foreach(flag IN ITEMS -fstack-clash-protection -fcf-protection)
  string(MAKE_C_IDENTIFIER "ADDRSERVICE_HAS${flag}" supported)
  check_cxx_compiler_flag(${flag} ${supported})
  if(${supported})
    list(APPEND addrservice_release_flags ${flag})
  endif()
endforeach()
target_compile_options(addrservice_hardening INTERFACE
  "$<$<CONFIG:Release,RelWithDebInfo>:${addrservice_release_flags}>")
target_link_options(addrservice_hardening INTERFACE "$<$<CONFIG:Release,RelWithDebInfo>:LINKER:-z,relro,-z,now>")
