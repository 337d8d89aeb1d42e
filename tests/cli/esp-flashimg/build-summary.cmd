build -q @SYNTH@/ota.yaml -o @OUT@ --summary -
