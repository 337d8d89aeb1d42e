build @SYNTH@/target.yaml -o @OUT@
