build @SYNTH@/bad-too-big.yaml -o @OUT@
