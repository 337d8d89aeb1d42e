write @OUT@ --partition nosuch @SYNTH@/app.bin
