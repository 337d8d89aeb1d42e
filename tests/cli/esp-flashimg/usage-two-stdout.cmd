build @SYNTH@/ota.yaml -o - --summary -
