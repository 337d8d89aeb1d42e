erase --format json @OUT@ --partition ota_0
