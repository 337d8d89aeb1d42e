tests/cli/gen-partitions/data/errors.csv @OUT@
