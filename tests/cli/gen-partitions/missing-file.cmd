tests/cli/gen-partitions/data/no-such-file.csv @OUT@
