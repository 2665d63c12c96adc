# tools build rules
