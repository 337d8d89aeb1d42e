explain --table-offset 0x9000 @SYNTH@/dump.bin
