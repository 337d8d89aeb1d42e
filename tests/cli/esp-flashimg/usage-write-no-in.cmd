write @SYNTH@/dump.bin --partition ota_0
