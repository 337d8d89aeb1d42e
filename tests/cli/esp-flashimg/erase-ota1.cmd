erase @OUT@ --partition ota_1
