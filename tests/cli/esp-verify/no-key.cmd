@SYNTH@/app-rsa.bin @SYNTH@/app-p256.bin
