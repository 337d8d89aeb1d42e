explain @SYNTH@/short.bin
