@SYNTH@/merged.hex
