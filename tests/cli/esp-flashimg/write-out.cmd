write @SYNTH@/dump.bin --partition ota_1 @SYNTH@/app.bin -o @OUT@
