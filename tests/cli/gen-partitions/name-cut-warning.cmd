tests/cli/gen-partitions/data/long_name.csv @OUT@
