build @SYNTH@/bad-keys.yaml -o @OUT@
