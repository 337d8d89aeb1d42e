show tests/cli/otadata-set/data/ota0.bin
