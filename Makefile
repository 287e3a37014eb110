# PGXS build of the nezuko_analytics extension (C++17).
# See ../shared/notes: the bitcode step ignores PG_CXXFLAGS, the module is
# linked by gcc with --as-needed, server headers go in as -isystem.

EXTENSION  = nezuko_analytics
MODULE_big = nezuko_analytics
EXT_VERSION = 1.1

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS   = $(sort $(wildcard src/pg/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script is assembled from the ordered parts in sql/ext/.  The
# scripts of versions that have shipped are frozen in sql/versions/; the
# upgrade from 1.0 is the part that 1.1 added (it creates or replaces).
EXT_SCRIPT  = $(EXTENSION)--$(EXT_VERSION).sql
EXT_PARTS   = $(sort $(wildcard sql/ext/*.sql))
UPGRADE_1_1 = $(EXTENSION)--1.0--1.1.sql
DATA_built  = $(EXT_SCRIPT) $(UPGRADE_1_1)
DATA        = $(wildcard sql/versions/*.sql)
EXTRA_CLEAN = build results regression.diffs regression.out

# pg_regress tests: the same list the test runner uses (test/regress_schedule).
REGRESS      = $(shell sed -n 's/^test: *//p' test/regress_schedule)
REGRESS_OPTS =

PG_CONFIG ?= pg_config
PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)
PG_CPPFLAGS = -isystem $(PG_INCLUDE_SERVER)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter
SHLIB_LINK  = -lstdc++

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# clang's bitcode step (Debian builds PostgreSQL with LLVM) does not see PG_CXXFLAGS.
COMPILE.cxx.bc += -std=c++17 -Wno-register

$(EXT_SCRIPT): $(EXT_PARTS)
	cat $^ > $@

$(UPGRADE_1_1): sql/upgrade/1.0--1.1.head sql/ext/72_native_reads.sql
	cat $^ > $@

# Recompile when a header changes.
$(OBJS): $(wildcard src/core/*.hpp src/pg/*.hpp)
