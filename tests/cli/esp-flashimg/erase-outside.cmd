erase @OUT@ --partition storage
