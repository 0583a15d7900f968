# check_module.cmake - checks one built WATM against WATM-ABI.md.
#
#   cmake -DWASM=x.wasm -DABI=v1|v0 -DFIXED=0|1 -DOBJDUMP=wasm-objdump
#         -DVALIDATE=wasm-validate -P check_module.cmake
#
# Fails unless: wasm-validate accepts the module; its exports are exactly the
# ABI's for that version (plus "memory" and "_start"), each with the ABI's
# signature; every import from "env" is one the ABI lists for that version,
# with its signature, and every other import is from wasi_snapshot_preview1.

foreach(v WASM ABI FIXED OBJDUMP VALIDATE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_module: -D${v}=... is required")
  endif()
endforeach()

execute_process(COMMAND ${VALIDATE} ${WASM} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wasm-validate rejects ${WASM}:\n${out}")
endif()

execute_process(COMMAND ${OBJDUMP} -x ${WASM} RESULT_VARIABLE rc
                OUTPUT_VARIABLE dump ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wasm-objdump failed on ${WASM}:\n${err}")
endif()

# Expected "name=signature" pairs; signatures as wasm-objdump prints them,
# without spaces.
if(ABI STREQUAL "v1")
  set(want_exports
      "_start=()->nil" "watm_init_v1=()->i32" "watm_ctrlpipe_v1=(i32)->i32"
      "watm_dial_v1=(i32)->i32" "watm_accept_v1=(i32)->i32"
      "watm_associate_v1=()->i32" "watm_start_v1=()->i32")
  set(want_env "water_dial_fixed=()->i32" "water_accept=()->i32")
  if(FIXED)
    list(APPEND want_exports "watm_dial_fixed_v1=(i32)->i32")
    list(APPEND want_env "water_dial=(i32,i32,i32,i32)->i32")
  endif()
elseif(ABI STREQUAL "v0")
  set(want_exports
      "_start=()->nil" "_water_v0=()->nil" "_water_init=()->i32"
      "_water_cancel_with=(i32)->i32" "_water_dial=(i32)->i32"
      "_water_accept=(i32)->i32" "_water_associate=()->i32" "_water_worker=()->i32")
  set(want_env "host_dial=()->i32" "host_accept=()->i32" "pull_config=()->i32"
               "host_defer=()->nil")
else()
  message(FATAL_ERROR "check_module: ABI must be v1 or v0, not '${ABI}'")
endif()

string(REPLACE "\n" ";" lines "${dump}")
set(types "")
set(func_sig "")
set(got_exports "")
set(got_env "")
set(errors "")
set(has_memory FALSE)
foreach(line IN LISTS lines)
  if(line MATCHES "^ - type\\[([0-9]+)\\] (.*)$")
    string(REPLACE " " "" sig "${CMAKE_MATCH_2}")
    set(type_${CMAKE_MATCH_1} "${sig}")
  elseif(line MATCHES "^ - func\\[([0-9]+)\\] sig=([0-9]+) <[^>]*> <- ([^.]+)\\.(.+)$")
    set(fsig_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
    set(mod "${CMAKE_MATCH_3}")
    set(name "${CMAKE_MATCH_4}")
    if(mod STREQUAL "env")
      list(APPEND got_env "${name}=${type_${CMAKE_MATCH_2}}")
    elseif(NOT mod STREQUAL "wasi_snapshot_preview1")
      list(APPEND errors "import from unexpected module: ${mod}.${name}")
    endif()
  elseif(line MATCHES "^ - func\\[([0-9]+)\\] sig=([0-9]+)")
    set(fsig_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  elseif(line MATCHES "^ - (global|table|memory)\\[[0-9]+\\].* <- ")
    list(APPEND errors "non-function import: ${line}")
  elseif(line MATCHES "^ - func\\[([0-9]+)\\] <[^>]*> -> \"(.*)\"$")
    set(sig "${type_${fsig_${CMAKE_MATCH_1}}}")
    list(APPEND got_exports "${CMAKE_MATCH_2}=${sig}")
  elseif(line MATCHES "^ - memory\\[0\\] -> \"memory\"$")
    set(has_memory TRUE)
  elseif(line MATCHES "^ - (global|table|memory)\\[[0-9]+\\].* -> \"(.*)\"$")
    list(APPEND errors "unexpected ${CMAKE_MATCH_1} export: ${CMAKE_MATCH_2}")
  endif()
endforeach()

if(NOT has_memory)
  list(APPEND errors "no \"memory\" export")
endif()
list(SORT want_exports)
list(SORT got_exports)
list(SORT want_env)
list(SORT got_env)
if(NOT "${want_exports}" STREQUAL "${got_exports}")
  string(REPLACE ";" ", " w "${want_exports}")
  string(REPLACE ";" ", " g "${got_exports}")
  list(APPEND errors "function exports differ:\n  want ${w}\n  got  ${g}")
endif()
if(NOT "${want_env}" STREQUAL "${got_env}")
  string(REPLACE ";" ", " w "${want_env}")
  string(REPLACE ";" ", " g "${got_env}")
  list(APPEND errors "env imports differ:\n  want ${w}\n  got  ${g}")
endif()

if(errors)
  string(REPLACE ";" "\n" errors "${errors}")
  message(FATAL_ERROR "${WASM} does not match the WATM ${ABI} ABI:\n${errors}")
endif()
string(REPLACE ";" ", " g "${got_exports}")
string(REPLACE ";" ", " e "${got_env}")
message(STATUS "${WASM}: WATM ${ABI} ABI ok; exports: ${g}; env imports: ${e}")
