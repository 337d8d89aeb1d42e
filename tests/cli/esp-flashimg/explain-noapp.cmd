explain @SYNTH@/noapp.bin
