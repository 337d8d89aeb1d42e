explain --format yaml @SYNTH@/dump.bin
