# PGXS build of the nezuko_analytics extension (C++17).
# docs/building.md: the bitcode step ignores PG_CXXFLAGS, the module is
# linked by gcc with --as-needed, server headers go in as -isystem.

EXTENSION  = nezuko_analytics
MODULE_big = nezuko_analytics
# The version lives in the control file only; everything else derives it.
EXT_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS   = $(sort $(wildcard src/pg/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script of the current version is assembled from the ordered
# parts in sql/shared/ and sql/native/ (scripts/sql_parts.sh; the portable
# edition joins sql/shared/ with sql/portable/, see `make portable`).  The
# install scripts of versions that have shipped are frozen in sql/versions/;
# every upgrade script is written by hand in sql/upgrade/ (docs/versions.md).
EXT_SCRIPT  = $(EXTENSION)--$(EXT_VERSION).sql
EXT_PARTS   = $(shell bash scripts/sql_parts.sh native)
DATA_built  = $(EXT_SCRIPT)
# (nezuko_analytics--*: the portable edition's frozen and upgrade scripts,
# nezuko_analytics_sql--*, go to pg_tle through `make portable`, never here)
DATA        = $(wildcard sql/versions/nezuko_analytics--*.sql sql/versions/nezuko_analytics--*.control) \
              $(wildcard sql/upgrade/nezuko_analytics--*.sql)
EXTRA_CLEAN = build results regression.diffs regression.out

# pg_regress tests: the same list the test runner uses (test/regress_schedule).
REGRESS      = $(shell sed -n 's/^test: *//p' test/regress_schedule)
REGRESS_OPTS =

PG_CONFIG ?= pg_config
PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)
PG_CPPFLAGS = -isystem $(PG_INCLUDE_SERVER) -DNZ_EXTENSION_VERSION='"$(EXT_VERSION)"'
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter
SHLIB_LINK  = -lstdc++

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# clang's bitcode step (Debian builds PostgreSQL with LLVM) does not see PG_CXXFLAGS.
COMPILE.cxx.bc += -std=c++17 -Wno-register

$(EXT_SCRIPT): $(EXT_PARTS) scripts/sql_parts.sh sql/shared sql/native
	cat $(EXT_PARTS) > $@

# The portable edition nezuko_analytics_sql for pg_tle and database.dev
# (docs/portable.md): build/portable/.
.PHONY: portable
portable:
	bash scripts/build_portable.sh

# Recompile when a header or the version changes.
$(OBJS): $(wildcard src/core/*.hpp src/pg/*.hpp) $(EXTENSION).control
