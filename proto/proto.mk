PROTO_SRC := proto/proto.c
PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/%.o)
