# IDEMGATE_SANITIZE=ON: ASan + UBSan on every target, failing hard on the first report.
if(IDEMGATE_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()
