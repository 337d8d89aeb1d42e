@SYNTH@/signed.bin
