build @SYNTH@/flash.yaml -o @OUT@
