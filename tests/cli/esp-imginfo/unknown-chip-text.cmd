@SYNTH@/chip77.bin
