explain --format json @SYNTH@/dump.bin
