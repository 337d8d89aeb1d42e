tests/cli/gen-partitions/data/small.bin
