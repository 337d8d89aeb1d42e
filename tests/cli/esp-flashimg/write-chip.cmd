write @OUT@ --partition ota_0 @SYNTH@/app-c3.bin
