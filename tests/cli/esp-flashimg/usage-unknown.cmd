frobnicate @SYNTH@/dump.bin
