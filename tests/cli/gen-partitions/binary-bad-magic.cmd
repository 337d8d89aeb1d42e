tests/cli/gen-partitions/data/bad_magic.bin
