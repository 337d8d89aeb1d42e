tests/cli/gen-partitions/data/empty.bin
