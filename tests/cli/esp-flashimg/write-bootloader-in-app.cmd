write @OUT@ --partition ota_0 @SYNTH@/boot.bin
