build @SYNTH@/bad-table-flash.yaml -o @OUT@
