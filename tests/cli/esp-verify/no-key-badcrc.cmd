@SYNTH@/app-badcrc.bin
