# edge build rules
