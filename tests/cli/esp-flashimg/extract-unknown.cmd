extract @SYNTH@/dump.bin --partition nosuch -o @OUT@
