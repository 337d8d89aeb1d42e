explain @SYNTH@/dump.bin
