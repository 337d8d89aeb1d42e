build @SYNTH@/ota.yaml -o @OUT@
