build @SYNTH@/ota.yaml --partition ota_0 -o @OUT@
