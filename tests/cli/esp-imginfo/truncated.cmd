@SYNTH@/trunc.bin
