map @SYNTH@/ota.yaml -o @OUT@
