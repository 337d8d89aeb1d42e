write @OUT@ --partition ota_1 @SYNTH@/app.bin
