explain @SYNTH@/misplaced.bin
