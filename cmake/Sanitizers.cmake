# ADDRSERVICE_SANITIZE=address,undefined instruments every target of the build.
if(ADDRSERVICE_SANITIZE)
  add_compile_options(-fsanitize=${ADDRSERVICE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ADDRSERVICE_SANITIZE})
endif()
