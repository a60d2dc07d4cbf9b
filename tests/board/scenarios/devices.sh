# devices: the rig's camera (vivid) and sound card (snd-aloop) appear in the
# agent's device inventory, as bbtctl shows it.
. /scenario-common.sh
start_agent
wait_api
bbtctl --socket /run/agent.sock inventory >/out/inventory.txt 2>&1
listed=$?
bbtctl --socket /run/agent.sock --json inventory >/out/inventory.json 2>&1
LANG=zh_CN.UTF-8 bbtctl --socket /run/agent.sock inventory >/out/inventory-zh.txt 2>&1
stop_agent
finish
[ $listed -eq 0 ]
