write @OUT@ --partition nvs @SYNTH@/data.txt
