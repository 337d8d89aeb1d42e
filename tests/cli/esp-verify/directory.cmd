tests/cli/esp-verify/data
