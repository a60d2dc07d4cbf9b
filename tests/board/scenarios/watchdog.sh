# watchdog: the agent feeds softdog from its control loop; the set keeps
# running past the timeout, and a hung loop (debug.hang) lets it fire.
agent_extra='watchdog = "/dev/watchdog"
watchdog_timeout = 4
debug_commands = true'
. /scenario-common.sh
start_agent
wait_api
sleep 10
echo "=== bbt-rig mark fed $(now) ==="
bbtctl --socket /run/agent.sock --timeout 60 debug hang 40 &
sleep 30
echo "=== bbt-rig mark survived $(now) ==="
stop_agent
finish
false
