# media-worker build rules
