explain @SYNTH@/missing.bin
