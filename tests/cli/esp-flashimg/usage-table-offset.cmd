explain --table-offset 0x8100 @SYNTH@/dump.bin
