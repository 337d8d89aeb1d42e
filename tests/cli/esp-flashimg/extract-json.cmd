extract --format json @SYNTH@/dump.bin --partition nvs -o @OUT@
