build @SYNTH@/uf2.yaml -o @OUT@
