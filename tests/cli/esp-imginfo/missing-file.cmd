tests/cli/esp-imginfo/no-such-file.bin
