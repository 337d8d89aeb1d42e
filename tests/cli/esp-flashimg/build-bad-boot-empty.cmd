build @SYNTH@/bad-boot-empty.yaml -o @OUT@
