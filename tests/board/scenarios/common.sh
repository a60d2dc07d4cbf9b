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
TOML
    BBT_LOG=debug bbt-agent --config /tmp/agent.toml 2>>/out/agent.log &
    agent=$!
    note "agent started ($agent)"
}
# Until the agent's API socket is there (at most 5 s).
wait_api() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -S /run/agent.sock ] && return 0
        sleep 0.5
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
