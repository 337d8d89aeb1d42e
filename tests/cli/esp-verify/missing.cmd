@SYNTH@/app.bin no/such/file.bin
