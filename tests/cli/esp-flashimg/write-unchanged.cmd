write @OUT@ --partition ota_0 @SYNTH@/app.bin
