# Writes the man page fogbow.1.gz from the binary's own help (cmake -P):
#   cmake -DFOGBOW=<binary> -DHELP2MAN=<help2man> -DSTATIC=<fogbow.h2m>
#         -DWORK=<dir> -DOUT=<fogbow.1.gz> -P manpage.cmake
# help2man turns `fogbow --help` (the roles' options) into the page; the
# client commands' help (`fogbow order --help`, `fogbow order create
# --help`, ...) is added as a section, so every --help text is in the page
# and nothing is written twice by hand.

function(run_help out)
  execute_process(COMMAND ${FOGBOW} ${ARGN} --help
    OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fogbow ${ARGN} --help failed (${rc}): ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# roff: a literal backslash is \e; a line may not start with . or '.
function(roff_block out title text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(STRIP "${text}" text)
  set(${out} "${${out}}.SS \"${title}\"\n.nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

# The subcommand names listed under "Subcommands:" of a CLI11 help text.
function(subcommands out text)
  set(names "")
  string(FIND "${text}" "Subcommands:" at)
  if(at GREATER -1)
    string(SUBSTRING "${text}" ${at} -1 tail)
    string(REGEX MATCHALL "\n  [a-z][a-z-]*" lines "${tail}")
    foreach(line ${lines})
      string(STRIP "${line}" name)
      list(APPEND names ${name})
    endforeach()
  endif()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

# The client's nouns, as the main help lists them:
# "(fogbow order|compute|...|login --help)", then `config`.
run_help(main)
string(REGEX MATCH "fogbow ([a-z|]+) --help" _ "${main}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "no client commands found in `fogbow --help`")
endif()
string(REPLACE "|" ";" nouns "${CMAKE_MATCH_1}")
list(APPEND nouns config)

set(page "[CLIENT COMMANDS]\n"
  "The same binary is the users' command-line client. Each command's help "
  "follows, as `fogbow COMMAND [SUBCOMMAND] --help` prints it.\n")
string(JOIN "" page ${page})
foreach(noun ${nouns})
  run_help(text ${noun})
  roff_block(page "fogbow ${noun}" "${text}")
  subcommands(verbs "${text}")
  foreach(verb ${verbs})
    run_help(text ${noun} ${verb})
    roff_block(page "fogbow ${noun} ${verb}" "${text}")
  endforeach()
endforeach()

file(READ ${STATIC} static)
file(WRITE ${WORK}/fogbow.h2m "${page}\n${static}")
execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr
    --name "federated private IaaS clouds: site roles and user client"
    --section 1 --include ${WORK}/fogbow.h2m --output ${WORK}/fogbow.1
    ${FOGBOW}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed (${rc})")
endif()
# gzip -9n: no name or time stamp, so the page is reproducible.
execute_process(COMMAND gzip -9nc ${WORK}/fogbow.1
  OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip failed (${rc})")
endif()
