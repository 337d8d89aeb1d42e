write --format json @OUT@ --partition ota_0 @SYNTH@/app2.bin
