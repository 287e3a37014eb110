// Included last by every file of src/core/: the core is plain C++ that knows
// nothing of PostgreSQL, so it can be unit-tested without a server.  If a
// PostgreSQL header was included before this one, the build stops here.
#pragma once
#ifdef POSTGRES_H
#error "src/core/ must not include PostgreSQL headers: keep fmgr code in src/pg/"
#endif
