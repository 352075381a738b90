# One static library per source folder, each seeing only the headers of the floors it links.
#
# All headers live in include/idemgate/<folder>/, but no target gets include/ itself: each
# layer's PUBLIC include directory is a folder of the build tree holding one link,
# idemgate/<folder> -> include/idemgate/<folder>. A target therefore finds a header of
# another folder only if it links that folder's library (directly, or PUBLIC through one it
# links), so an include that runs the wrong way fails to compile:
#   src/proxy/upstream_pool.cpp: fatal error: idemgate/engine/engine.hpp: No such file
# docs/architecture.md draws the floors.

# idemgate_layer(NAME [HEADERS top-level headers...] SOURCES ... [PUBLIC ...] [PRIVATE ...])
# makes the library idemgate_NAME from src/NAME's sources, with warnings and sanitizers.
function(idemgate_layer name)
    cmake_parse_arguments(L "" "" "HEADERS;SOURCES;PUBLIC;PRIVATE" ${ARGN})
    set(root ${CMAKE_BINARY_DIR}/layers/${name})
    file(MAKE_DIRECTORY ${root}/idemgate)
    set(dir ${PROJECT_SOURCE_DIR}/include/idemgate/${name})
    if(IS_DIRECTORY ${dir} AND NOT EXISTS ${root}/idemgate/${name})
        file(CREATE_LINK ${dir} ${root}/idemgate/${name} SYMBOLIC)
    endif()
    foreach(h IN LISTS L_HEADERS) # headers of include/idemgate/ itself (the base floor)
        if(NOT EXISTS ${root}/idemgate/${h})
            file(CREATE_LINK ${PROJECT_SOURCE_DIR}/include/idemgate/${h} ${root}/idemgate/${h}
                 SYMBOLIC)
        endif()
    endforeach()
    add_library(idemgate_${name} STATIC ${L_SOURCES})
    target_include_directories(idemgate_${name} PUBLIC ${root})
    target_link_libraries(idemgate_${name} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
    idemgate_target_options(idemgate_${name})
endfunction()
