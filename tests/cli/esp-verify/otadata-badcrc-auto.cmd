tests/cli/esp-verify/data/otadata-badcrc.bin
