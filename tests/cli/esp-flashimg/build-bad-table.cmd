build @SYNTH@/bad-table.yaml -o @OUT@
