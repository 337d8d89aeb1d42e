map --format json @SYNTH@/dump.bin -o @OUT@
