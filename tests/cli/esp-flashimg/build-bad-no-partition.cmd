build @SYNTH@/bad-no-partition.yaml -o @OUT@
