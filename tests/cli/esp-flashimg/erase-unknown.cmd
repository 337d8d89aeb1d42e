erase @OUT@ --partition nosuch
