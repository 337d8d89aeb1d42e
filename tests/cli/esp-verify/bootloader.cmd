@SYNTH@/boot.bin
