tests/cli/gen-partitions/data/cut_name.bin
