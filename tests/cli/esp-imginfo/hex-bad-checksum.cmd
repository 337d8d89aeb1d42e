tests/cli/esp-imginfo/data/bad-checksum.hex
