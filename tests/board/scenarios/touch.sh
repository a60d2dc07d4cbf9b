# touch: a real board's recording played by the USB gadget, read by the agent
# over libusb, injected through uinput; the agent's touch node is recorded.
rec=$(ls /data/*.hid | head -1)
BBT_RIG_REPORTS=$(cat /data/reports 2>/dev/null || echo 0)
cat >/tmp/agent.toml <<TOML
[agent]
state_dir = "/var/lib/bbt"
board = "generic-pc"
[api]
socket = "/run/agent.sock"
[whiteboard]
device = "usb"
tools_by_size = false
release_after = 2
TOML
echo 8 >/proc/sys/kernel/printk
BBT_LOG=debug bbt-agent --config /tmp/agent.toml 2>/out/agent.log &
agent=$!
echo "rig: $(cut -d" " -f1 /proc/uptime) s: starting" >&2
bbt-rig-evdev --out /out/events.ev --wait 40 --idle 4 2>/out/evdev.log &
dump=$!
bbt-sim usb-gadget --recording "$rec" --reports ${BBT_RIG_REPORTS:-0} --delay 1 --max-gap 2.5 --hold 1 2>/out/gadget.log
gadget=$?
wait $dump
dumped=$?
echo "rig: $(cut -d" " -f1 /proc/uptime) s: recorded ($dumped)" >&2
kill $agent
wait $agent
dmesg >/out/dmesg.txt
for d in /sys/class/input/event*; do echo "$d $(cat $d/device/name) phys=$(cat $d/device/phys)"; done >/out/nodes.txt
grep -q "multitouch mode set\|refused multitouch mode\|connected" /out/agent.log
[ $gadget -eq 0 ] && [ $dumped -eq 0 ] && [ -s /out/events.ev ]
