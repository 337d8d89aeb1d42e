write --chip esp32 @OUT@ --partition ota_1 @SYNTH@/app.bin
