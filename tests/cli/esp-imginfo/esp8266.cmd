@SYNTH@/esp8266.bin
