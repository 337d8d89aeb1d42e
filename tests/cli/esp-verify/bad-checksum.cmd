@SYNTH@/badsum.bin
