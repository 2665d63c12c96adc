# router build rules
