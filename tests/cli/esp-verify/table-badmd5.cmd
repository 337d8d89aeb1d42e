tests/cli/esp-verify/data/table-badmd5.bin
