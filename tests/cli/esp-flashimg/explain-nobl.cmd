explain @SYNTH@/nobl.bin
