build @SYNTH@/data-hex.yaml -o -
