explain --chip esp99 @SYNTH@/dump.bin
