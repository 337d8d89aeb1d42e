write @OUT@ --partition ota_0 @SYNTH@/missing.bin
