erase - --partition ota_0
