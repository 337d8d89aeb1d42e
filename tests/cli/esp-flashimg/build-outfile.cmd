build @SYNTH@/outfile.yaml
