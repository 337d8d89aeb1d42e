build @SYNTH@/bad-load.yaml -o @OUT@
