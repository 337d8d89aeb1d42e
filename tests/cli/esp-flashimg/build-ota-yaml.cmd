build --format yaml @SYNTH@/ota.yaml -o @OUT@
