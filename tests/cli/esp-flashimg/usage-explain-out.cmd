explain @SYNTH@/dump.bin -o @OUT@
