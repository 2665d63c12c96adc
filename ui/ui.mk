# ui build rules
