@SYNTH@/app.bin tests/cli/esp-imginfo/no-such-file.bin @SYNTH@/boot.bin
