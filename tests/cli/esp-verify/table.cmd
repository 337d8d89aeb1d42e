tests/cli/esp-verify/data/table.bin
