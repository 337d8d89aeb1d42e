build @SYNTH@/bad-syntax.yaml -o @OUT@
