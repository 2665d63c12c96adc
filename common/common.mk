COMMON_SRC := common/log.c common/util.c common/config.c common/nngmsg.c common/utf8.c
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
