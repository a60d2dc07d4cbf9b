# kernel: the same recording first through the kernel's own hid-multitouch
# (its node recorded), then through the agent (which takes the board from the
# kernel's driver).
. /scenario-common.sh
bbt-rig-evdev --out /out/kernel.ev --phys usb- --wait 40 --idle 4 2>/out/evdev-kernel.log &
dump=$!
bbt-sim usb-gadget --recording "$rec" --reports "$reports" --host-driver usbhid --delay 1 --max-gap 2.5 --hold 1 2>/out/gadget-kernel.log
wait $dump
kernel=$?
note "kernel's node recorded ($kernel)"
start_agent
bbt-rig-evdev --out /out/agent.ev --wait 40 --idle 4 2>/out/evdev.log &
dump=$!
bbt-sim usb-gadget --recording "$rec" --reports "$reports" --host-driver usbfs --delay 0.5 --max-gap 2.5 --hold 1 2>/out/gadget.log
wait $dump
ours=$?
stop_agent
finish
[ $kernel -eq 0 ] && [ $ours -eq 0 ]
