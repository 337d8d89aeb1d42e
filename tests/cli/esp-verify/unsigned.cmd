@SYNTH@/app.bin
