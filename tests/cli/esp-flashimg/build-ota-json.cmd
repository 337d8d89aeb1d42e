build --format json @SYNTH@/ota.yaml -o @OUT@
