init @OUT@
