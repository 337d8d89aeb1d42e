build @SYNTH@/bad-boot-name.yaml -o @OUT@
