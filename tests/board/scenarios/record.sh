# record: a lesson recorded through bbtctl from vivid's camera (/dev/video0)
# and snd-aloop's sound card, with a tone played into the loopback's other
# side; ffprobe and ffmpeg's volumedetect read the file in the guest. The
# guest's disk is its memory (a few hundred MiB free): the disk guard is set low.
. /scenario-common.sh
extra_sections='[recorder]
video_format = "v4l2"
video_input = "/dev/video0"
video_options = "video_size=320x180:framerate=10"
audio_format = "alsa"
audio_input = "hw:Loopback,1,0"
audio_options = "sample_rate=48000:channels=2"
preset = "ultrafast"
video_bitrate_kbit = 300
upload = false
min_free_mb = 64'
export BBT_MEDIA_MODULE=/bin/bbt_media_ffmpeg.so
ffmpeg -nostdin -loglevel error -re -f lavfi -i "sine=frequency=1000:sample_rate=48000" -ac 2 \
    -f alsa hw:Loopback,0,0 2>/out/tone.log &
tone=$!
start_agent
wait_api
bbtctl --socket /run/agent.sock --json record start --lesson rig >/out/start.json 2>&1
started=$?
note "recording ($started)"
# Guest seconds; under emulation they pass slowly.
sleep 8
bbtctl --socket /run/agent.sock --json record status >/out/status.json 2>&1
bbtctl --socket /run/agent.sock --json record stop >/out/stop.json 2>&1
stopped=$?
note "stopped ($stopped)"
kill "$tone"
file=$(sed -n 's/.*"file":"\([^"]*\)".*/\1/p' /out/stop.json)
ffprobe -v error -show_streams -show_format -of json "$file" >/out/probe.json 2>/out/probe.err
ffmpeg -nostdin -i "$file" -vn -af volumedetect -f null - 2>/out/volume.txt
stop_agent
finish
[ $started -eq 0 ] && [ $stopped -eq 0 ] && [ -s /out/probe.json ]
