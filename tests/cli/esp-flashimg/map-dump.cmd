map @SYNTH@/dump.bin -o @OUT@
