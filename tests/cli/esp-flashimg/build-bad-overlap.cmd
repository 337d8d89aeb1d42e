build @SYNTH@/bad-overlap.yaml -o @OUT@
