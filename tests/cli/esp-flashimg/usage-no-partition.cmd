extract @SYNTH@/dump.bin -o @OUT@
