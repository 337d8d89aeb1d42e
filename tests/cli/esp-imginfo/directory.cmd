tests/cli/esp-imginfo
