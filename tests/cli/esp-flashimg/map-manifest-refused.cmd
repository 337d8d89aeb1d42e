map @SYNTH@/bad-chip.yaml -o @OUT@
