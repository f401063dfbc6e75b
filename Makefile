# Caliber: the operator's CLI (caliber), the local cloud (caliberd) and their tests.
#
#   make            build bin/caliber and bin/caliberd (warnings are errors)
#   make asan       the same under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan/)
#   make check      install what is missing, build, run every test, then again under ASan+UBSan
#   make demo       the main job: the local demo of the runbook
#   make bench      benchmarks (figures, never assertions)
#   make fuzz       build the libFuzzer targets with clang
#   make fuzz-long  run every fuzz target FUZZ_LONG_SECONDS (600), two at a time
#   make compile_commands.json
#
# Sources are found by wildcard: a new lib/**/*.c, cli/*.c, localcloud/<dir>/*.c
# or tests/unit/test-*.c needs no change here.  localcloud/ except caliberd.c
# (main) and rds/guard/ (a PostgreSQL module) is liblocalcloud.a, which
# caliberd and the unit tests link (docs/localcloud.md, "Layout").

CC      ?= cc
PKGS    := libcurl jansson inih openssl libxml-2.0 sqlite3 libmicrohttpd libpq
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wvla -Wformat=2 -Wno-format-nonliteral
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
B       := build/asan
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
B       := build/release
OPT     := -O2 -g
endif

CFLAGS  += $(WARN) $(OPT) -D_GNU_SOURCE -Ilib -Ilocalcloud $(PKG_CFLAGS)
LDFLAGS += $(OPT)
LDLIBS  += $(PKG_LIBS) -lm -lpthread

# The AWS service models, generated from Debian's python3-botocore (not committed):
# the client's trimmed ones, and the server's whole ones (only caliberd's codec
# links those: nothing in caliber references them).
GEN_SRC := lib/aws/gen/aws-models.c lib/aws/gen/aws-server-models.c
LIB_SRC := $(sort $(shell find lib -name '*.c') $(GEN_SRC))
CLI_SRC := $(wildcard cli/*.c)
LC_MAIN := localcloud/caliberd.c
LC_SRC  := $(sort $(shell find localcloud -name '*.c' ! -path '$(LC_MAIN)' ! -path 'localcloud/rds/guard/*' ! -path 'localcloud/docdb/*'))
UNIT_SRC := $(wildcard tests/unit/test-*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
LC_OBJ  := $(LC_SRC:%.c=$(B)/%.o)
LC_LIB  := $(if $(LC_SRC),$(B)/liblocalcloud.a)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)

# The RDS guard: a PostgreSQL 15 server module (localcloud/rds/guard/) that every
# instance's server preloads; caliberd finds it next to itself.  Built against the
# server's headers (Debian's postgresql-server-dev-15), never with the sanitizers
# (it runs inside postgres, not caliberd).
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
PG_SERVER_INC := $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
GUARD_SO := $(B)/caliber_rds_guard.so

# caliber-docdb: one DocumentDB cluster's data plane (localcloud/docdb/), a
# binary of its own next to caliberd, which a cluster's supervisor runs.  It
# links the local CA (localcloud/core/ca.c) to issue its TLS certificate.
DOCDB_SRC := $(wildcard localcloud/docdb/*.c)
DOCDB_OBJ := $(DOCDB_SRC:%.c=$(B)/%.o)
DOCDB_BIN := $(if $(DOCDB_SRC),$(B)/caliber-docdb)
$(DOCDB_OBJ): CFLAGS += $(shell pkg-config --cflags libbson-1.0 libpcre2-8 2>/dev/null) -Ilocalcloud

# A libmongoc client of caliber-docdb (Debian libmongoc-dev), built with the
# tests and run by tests/integration/test_docdb_mongoc.py.
MONGOC_CLIENT := $(B)/tests/clients/docdb-mongoc

TARGETS := $(B)/caliber $(UNIT_BIN) $(MONGOC_CLIENT)
ifneq ($(LC_SRC),)
TARGETS += $(B)/caliberd $(GUARD_SO) $(DOCDB_BIN)
endif

.PHONY: all bin asan deps check test test-unit test-integration test-infra demo bench fuzz fuzz-long clean format
all: $(TARGETS) bin

bin: $(TARGETS)
	@mkdir -p bin
	@ln -sf ../$(B)/caliber bin/caliber
	@if [ -e $(B)/caliberd ]; then ln -sf ../$(B)/caliberd bin/caliberd; fi

$(GEN_SRC) &: tools/gen-models.py
	@mkdir -p lib/aws/gen
	python3 tools/gen-models.py $(GEN_SRC)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libcaliber.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/caliber: $(CLI_OBJ) $(B)/libcaliber.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/liblocalcloud.a: $(LC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/caliberd: $(B)/$(LC_MAIN:%.c=%.o) $(B)/liblocalcloud.a $(B)/libcaliber.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/caliber-docdb: $(DOCDB_OBJ) $(B)/localcloud/core/ca.o $(B)/libcaliber.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libbson-1.0 libpcre2-8 2>/dev/null) $(LDLIBS)

build/%/caliber_rds_guard.so: localcloud/rds/guard/caliber_rds_guard.c
	@mkdir -p $(dir $@)
	@test -f "$(PG_SERVER_INC)/postgres.h" || { echo "make: no PostgreSQL 15 server headers;" \
		"install postgresql-server-dev-15 (make deps)" >&2; exit 1; }
	$(CC) $(WARN) -D_GNU_SOURCE -O2 -g -fPIC -shared -isystem $(PG_SERVER_INC) -MMD -MP -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(LC_LIB) $(B)/libcaliber.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Itests/unit -o $@ $< $(LC_LIB) $(B)/libcaliber.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(B)/tests/clients/docdb-mongoc: tests/clients/docdb-mongoc.c
	@mkdir -p $(dir $@)
	@pkg-config --exists libmongoc-1.0 || { echo "make: no libmongoc; install libmongoc-dev (make deps)" >&2; exit 1; }
	$(CC) $(WARN) $(OPT) -D_GNU_SOURCE -MMD -MP $(shell pkg-config --cflags libmongoc-1.0 2>/dev/null) -o $@ $< \
		$(LDFLAGS) $(shell pkg-config --libs libmongoc-1.0 2>/dev/null)

asan:
	$(MAKE) SANITIZE=1 build/asan/caliber build/asan/tests/clients/docdb-mongoc $(if $(LC_SRC),build/asan/caliberd build/asan/caliber_rds_guard.so build/asan/caliber-docdb) $(UNIT_SRC:tests/unit/%.c=build/asan/tests/unit/%)

deps:
	@tools/install-deps.sh

# The README's test command.  Everything, from a fresh Debian 12 machine.
check: deps
	@tools/run-tests.sh

test-unit: all
	@tools/run-tests.sh unit

# deps first, then a fresh make: pkg-config above must see what deps installed
demo: deps
	@$(MAKE) -s all
	@tools/demo.sh

bench: deps
	@$(MAKE) -s all
	@tools/bench.sh

fuzz: $(GEN_SRC)
	@tools/build-fuzz.sh

FUZZ_LONG_SECONDS ?= 600
fuzz-long: $(GEN_SRC)
	@tools/build-fuzz.sh run $(FUZZ_LONG_SECONDS) 2

compile_commands.json:
	$(MAKE) clean
	bear -- $(MAKE) all

format:
	clang-format -i $(filter-out $(GEN_SRC),$(LIB_SRC)) $(CLI_SRC) $(LC_MAIN) $(LC_SRC) $(UNIT_SRC) $$(find lib cli localcloud -name '*.h')

clean:
	rm -rf build bin lib/aws/gen

-include $(shell find build -name '*.d' 2>/dev/null)
