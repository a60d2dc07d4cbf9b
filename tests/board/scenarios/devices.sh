# devices: the classroom devices the rig's kernel gives are there.
ls -l /dev/video0 /dev/snd /dev/watchdog /dev/uinput /dev/bus/usb 2>&1 | tee /out/devices.txt
