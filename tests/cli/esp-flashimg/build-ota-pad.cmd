build @SYNTH@/ota-pad.yaml -o @OUT@
