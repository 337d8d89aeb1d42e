explain @SYNTH@/dump.bin @SYNTH@/dump.bin
