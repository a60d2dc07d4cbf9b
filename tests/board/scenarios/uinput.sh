# uinput: the uinput sink's test, run where /dev/uinput is real: the nodes it
# makes are the kernel's, and a frame written comes out of the touch node.
. /scenario-common.sh
bbt-rig-uinput-test >/out/uinput.txt 2>&1
passed=$?
note "uinput test: $passed"
finish
[ $passed -eq 0 ]
