# Included by CTest after the doctest cases are discovered (tests/CMakeLists.txt).
set(renewal_long "a set with a 60-second certificate reports for ten minutes through its own renewals: every report once")
list(FIND integration_tests_TESTS "${renewal_long}" found)
if(NOT found EQUAL -1)
    set_tests_properties("${renewal_long}" PROPERTIES COST 100000 TIMEOUT 1500)
endif()
