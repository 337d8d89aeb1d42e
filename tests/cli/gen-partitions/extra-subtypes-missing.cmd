tests/cli/gen-partitions/data/extra.csv @OUT@
