build @SYNTH@/bad-chip.yaml -o @OUT@
