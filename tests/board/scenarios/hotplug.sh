# hotplug: the board unplugged (its gadget unbound from the controller) in the
# middle of a stroke and plugged in again; the agent's node goes and comes back.
. /scenario-common.sh
start_agent
bbt-rig-evdev --out /out/events.ev --wait 40 --idle 4 --follow 2>/out/evdev.log &
dump=$!
bbt-sim usb-gadget --recording "$rec" --reports "$reports" --host-driver usbfs --delay 0.5 --max-gap 2.5 --hold 1 \
    --replug-at "$(cat /data/replug_at)" --replug-gap 1 2>/out/gadget.log
gadget=$?
wait $dump
dumped=$?
stop_agent
finish
[ $gadget -eq 0 ] && [ $dumped -eq 0 ]
