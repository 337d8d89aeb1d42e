tests/cli/esp-verify/data/small.csv
