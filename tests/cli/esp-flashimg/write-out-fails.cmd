write @OUT@ --partition ota_1 @SYNTH@/app.bin -o @OUT@/sub/new.bin
