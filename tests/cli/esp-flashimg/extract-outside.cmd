extract @SYNTH@/short.bin --partition storage -o @OUT@
