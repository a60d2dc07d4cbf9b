# devices: the rig's camera (vivid) and sound card (snd-aloop) appear in the
# agent's device inventory, as bbtctl shows it.
. /scenario-common.sh
start_agent
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -S /run/agent.sock ] && break
    sleep 0.5
done
bbtctl --socket /run/agent.sock inventory >/out/inventory.txt 2>&1
listed=$?
bbtctl --socket /run/agent.sock --json inventory >/out/inventory.json 2>&1
LANG=zh_CN.UTF-8 bbtctl --socket /run/agent.sock inventory >/out/inventory-zh.txt 2>&1
stop_agent
finish
[ $listed -eq 0 ]
