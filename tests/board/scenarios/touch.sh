# touch: a real board's recording played by the USB gadget, read by the agent
# over libusb, injected through uinput; the agent's touch node is recorded.
. /scenario-common.sh
start_agent
bbt-rig-evdev --out /out/events.ev --wait 40 --idle 4 2>/out/evdev.log &
dump=$!
bbt-sim usb-gadget --recording "$rec" --reports "$reports" --host-driver usbfs --delay 0.5 --max-gap 2.5 --hold 1 2>/out/gadget.log
gadget=$?
wait $dump
dumped=$?
note "recorded ($dumped)"
stop_agent
finish
[ $gadget -eq 0 ] && [ $dumped -eq 0 ] && [ -s /out/events.ev ]
