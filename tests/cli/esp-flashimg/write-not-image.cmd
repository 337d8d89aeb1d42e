write @OUT@ --partition ota_0 @SYNTH@/data.txt
