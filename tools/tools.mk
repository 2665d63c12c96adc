# tools build rules
# vc-supervisor: starts, restarts and stops the processes of `make run`.
$(BIN)/vc-supervisor: $(BUILD)/tools/supervisor.o $(COMMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -ljansson -lnng
BINARIES += $(BIN)/vc-supervisor
