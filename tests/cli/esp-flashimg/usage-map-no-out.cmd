map @SYNTH@/dump.bin
