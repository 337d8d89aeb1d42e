build @SYNTH@/ota.yaml --chip esp32 -o @OUT@
