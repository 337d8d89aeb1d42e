tests/cli/esp-verify/data/otadata.bin
