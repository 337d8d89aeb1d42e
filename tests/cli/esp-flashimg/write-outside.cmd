write @OUT@ --partition storage @SYNTH@/data.txt
