build @SYNTH@/bad-app-offset.yaml -o @OUT@
