# Included by CTest after the doctest cases are discovered (tests/CMakeLists.txt).
cmake_policy(PUSH)
cmake_policy(SET CMP0064 NEW)  # if(TEST)
set(renewal_long "a set with a 60-second certificate reports for ten minutes through its own renewals: every report once")
if(TEST "${renewal_long}")
    set_tests_properties("${renewal_long}" PROPERTIES COST 100000 TIMEOUT 1500)
endif()
cmake_policy(POP)
