# Shared by the scenarios: the agent's configuration and start.
rec=$(ls /data/*.hid 2>/dev/null | head -1)
reports=$(cat /data/reports 2>/dev/null || echo 0)
now() { cut -d" " -f1 /proc/uptime; }
note() { echo "rig: $(now) s: $*" >&2; }
start_agent() {
    cat >/tmp/agent.toml <<TOML
[agent]
state_dir = "/var/lib/bbt"
board = "generic-pc"
${agent_extra:-}
[api]
socket = "/run/agent.sock"
[whiteboard]
device = "usb"
tools_by_size = false
release_after = 2
${extra_sections:-}
TOML
    BBT_LOG=debug bbt-agent --config /tmp/agent.toml 2>>/out/agent.log &
    agent=$!
    note "agent started ($agent)"
}
# Until the agent answers on its API socket (at most 60 guest seconds: a
# large initramfs makes the emulated guest slow to start programs).
wait_api() {
    i=0
    while [ $i -lt 120 ]; do
        [ -S /run/agent.sock ] && bbtctl --socket /run/agent.sock status >/dev/null 2>&1 && return 0
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}
stop_agent() {
    kill "$agent"
    wait "$agent"
    note "agent stopped"
}
finish() {
    dmesg >/out/dmesg.txt
}
