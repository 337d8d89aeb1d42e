build @SYNTH@/bad-app-slot.yaml -o @OUT@
