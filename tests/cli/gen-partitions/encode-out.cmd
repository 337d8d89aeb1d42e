tests/cli/gen-partitions/data/small.csv @OUT@
