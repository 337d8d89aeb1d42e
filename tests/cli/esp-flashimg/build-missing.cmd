build @SYNTH@/nosuch.yaml -o @OUT@
