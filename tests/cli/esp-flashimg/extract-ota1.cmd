extract @SYNTH@/dump.bin --partition ota_1 -o @OUT@
