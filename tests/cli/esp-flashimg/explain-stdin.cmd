explain - < @SYNTH@/dump.bin
