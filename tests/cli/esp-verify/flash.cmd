@SYNTH@/flash.bin
