build @SYNTH@/ota.yaml
