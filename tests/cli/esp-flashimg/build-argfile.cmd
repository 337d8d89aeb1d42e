build -q @SYNTH@/flash.yaml -o @OUT@ --argfile -
