build @SYNTH@/uf2-chunk.yaml -o @OUT@
