# The c10d backends of data-parallel training, each compiled in from its own file only after a
# check against this LibTorch (native/core/dist/{gloo,nccl}.cc; without one, dist.init() says why):
#
# - Gloo: LibTorch ships no gloo headers. Debian's libtorch links Debian's libgloo, whose headers
#   (libgloo-dev) are that library's; a pip torch has its own gloo compiled in, and headers of
#   another gloo version describe other classes (torch 2.x's gloo Store has virtual methods 2022's
#   headers lack). So gloo.cc is compiled and linked against LibTorch alone first, and kept only if
#   every gloo symbol it calls is LibTorch's and it defines no gloo code or vtable of its own: then
#   everything of gloo that runs is what LibTorch was compiled with, and the headers only named it.
# - NCCL: compiled in where LibTorch has it (USE_C10D_NCCL, a CUDA build) and nccl.h is found.
#
# Sets FINETORCH_DIST_FOUND (for the summary line) and adds the sources and definitions to
# finetorch_core.

find_path(FINETORCH_gloo_INCLUDE gloo/rendezvous/store.h)
find_path(FINETORCH_nccl_INCLUDE nccl.h HINTS ENV NCCL_INCLUDE_DIR ${FINETORCH_CUDA_INCLUDES} ${CUDA_TOOLKIT_ROOT_DIR}/include)
set(FINETORCH_gloo_HINT "gloo's headers were not found (Debian/Ubuntu: apt-get install libgloo-dev; LibTorch does not ship them)")
if(CAFFE2_USE_CUDA)
  set(FINETORCH_nccl_HINT "nccl.h was not found (pip: the nvidia-nccl wheel of torch's CUDA, e.g. nvidia-nccl-cu13; or NCCL_INCLUDE_DIR)")
else()
  set(FINETORCH_nccl_HINT "NCCL needs a CUDA build of LibTorch, and this one is a CPU build")
  set(FINETORCH_nccl_INCLUDE "")
endif()

# The file of an imported library target (LibTorch's config sets one configuration or another).
function(finetorch_imported_file target out)
  get_target_property(configs ${target} IMPORTED_CONFIGURATIONS)
  foreach(property IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_NONE IMPORTED_LOCATION)
    get_target_property(file ${target} ${property})
    if(file)
      set(${out} ${file} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  foreach(config ${configs})
    get_target_property(file ${target} IMPORTED_LOCATION_${config})
    if(file)
      set(${out} ${file} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# Compiles and links `source` against LibTorch's own libraries alone (named by file: try_compile
# cannot re-import LibTorch's targets, whose link interfaces name targets its config never
# defines); on failure sets `out_reason` to why.
function(finetorch_check_backend name source include_dir out_reason)
  set(dir ${CMAKE_BINARY_DIR}/check-${name})
  file(WRITE ${dir}-main.cc "int main() { return 0; }\n")
  set(definitions ${TORCH_CXX_FLAGS})
  set(libraries "")
  foreach(target torch torch_cpu torch_cuda c10 c10_cuda)
    if(TARGET ${target})
      finetorch_imported_file(${target} file)
      list(APPEND libraries ${file})
      get_target_property(defines ${target} INTERFACE_COMPILE_DEFINITIONS)
      foreach(define ${defines})
        list(APPEND definitions -D${define})
      endforeach()
    endif()
  endforeach()
  try_compile(compiled ${dir} SOURCES ${source} ${dir}-main.cc
    CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${CMAKE_SOURCE_DIR}/native;${include_dir};${TORCH_INCLUDE_DIRS};${FINETORCH_CUDA_INCLUDES};${CUDAToolkit_INCLUDE_DIRS}"
    COMPILE_DEFINITIONS ${definitions}
    LINK_OPTIONS -Wl,--allow-shlib-undefined
    LINK_LIBRARIES ${libraries}
    CXX_STANDARD 20
    OUTPUT_VARIABLE log
    COPY_FILE ${dir}.bin)
  if(NOT compiled)
    file(WRITE ${dir}.log "${log}")
    string(REGEX MATCH "(error|undefined reference)[^\n]*" first "${log}")
    set(${out_reason} "${source} does not compile and link against this LibTorch (${first})" PARENT_SCOPE)
    return()
  endif()
  if(name STREQUAL "gloo")
    execute_process(COMMAND ${CMAKE_NM} --defined-only -P ${dir}.bin OUTPUT_VARIABLE defined)
    # Code in namespace gloo, or a vtable/typeinfo of gloo's classes or of c10d's classes derived
    # from them (local constants, nm's r/d/b, are only values).
    string(REGEX MATCHALL "(^|\n)(_Z(T[VIS]|Th[n0-9]+_)?N[KVR]*4gloo|_ZT[VIS]N4c10d16ProcessGroupGloo)[^ ]* [TtWVuiDBR]" own "${defined}")
    if(own)
      list(GET own 0 example)
      string(REGEX REPLACE "^\n?([^ ]*) .*" "\\1" example "${example}")
      set(${out_reason} "gloo's headers in ${include_dir} are not those of the gloo LibTorch was built with: compiled against them, ${source} defines gloo code of its own (${example}); point CMAKE_PREFIX_PATH at the gloo headers of this torch's release (third_party/gloo of its source)" PARENT_SCOPE)
      return()
    endif()
  endif()
  set(${out_reason} "" PARENT_SCOPE)
endfunction()

set(FINETORCH_DIST_FOUND "")
foreach(backend gloo nccl)
  set(reason "${FINETORCH_${backend}_HINT}")
  set(source ${CMAKE_SOURCE_DIR}/native/core/dist/${backend}.cc)
  if(FINETORCH_${backend}_INCLUDE)
    # A check is redone only when what it checked changed (LibTorch, headers, the file, this one).
    file(MD5 ${source} source_md5)
    file(MD5 ${CMAKE_CURRENT_LIST_FILE} check_md5)
    set(key "${Torch_DIR}|${FINETORCH_${backend}_INCLUDE}|${source_md5}|${check_md5}")
    if(NOT key STREQUAL "${FINETORCH_${backend}_CHECKED}")
      finetorch_check_backend(${backend} ${source} ${FINETORCH_${backend}_INCLUDE} checked_reason)
      set(FINETORCH_${backend}_REASON "${checked_reason}" CACHE INTERNAL "why ${backend} is left out, empty if it is not")
      set(FINETORCH_${backend}_CHECKED "${key}" CACHE INTERNAL "what the ${backend} check checked")
    endif()
    set(reason "${FINETORCH_${backend}_REASON}")
  endif()
  string(TOUPPER ${backend} BACKEND)
  if(reason STREQUAL "")
    target_sources(finetorch_core PRIVATE ${source})
    target_include_directories(finetorch_core PRIVATE ${FINETORCH_${backend}_INCLUDE})
    target_compile_definitions(finetorch_core PRIVATE FINETORCH_${BACKEND})
    list(APPEND FINETORCH_DIST_FOUND "${backend} (headers ${FINETORCH_${backend}_INCLUDE})")
  else()
    message(STATUS "finetorch: data-parallel training without ${backend}: ${reason}")
    string(REPLACE "\"" "'" reason "${reason}")
    string(REPLACE ";" "," reason "${reason}")
    target_compile_definitions(finetorch_core PRIVATE "FINETORCH_${BACKEND}_MISSING=\"${reason}\"")
    list(APPEND FINETORCH_DIST_FOUND "no ${backend}")
  endif()
endforeach()
