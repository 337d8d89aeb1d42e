explain -q @SYNTH@/dump.bin
