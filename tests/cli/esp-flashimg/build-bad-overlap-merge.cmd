build @SYNTH@/bad-overlap-merge.yaml -o @OUT@
