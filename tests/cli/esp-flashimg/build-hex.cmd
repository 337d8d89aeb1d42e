build @SYNTH@/hex.yaml -o @OUT@
